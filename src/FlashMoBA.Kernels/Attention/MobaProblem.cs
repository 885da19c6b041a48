using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Routing;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// One validated MoBA attention problem: tensor sizes, routing geometry, resolved softmax scale and
/// the optional key convolution. Forward results and gradients remember the problem they were made
/// for, so that reuse with a different problem is caught before any launch.
/// </summary>
internal sealed class MobaProblem
{
    /// <summary>Builds a problem from validated parts.</summary>
    public MobaProblem(AttentionDims dims, MobaConfig config, RoutingGeometry geometry)
    {
        Dims = dims;
        Config = config;
        Geometry = geometry;
        Scale = (float)dims.SoftmaxScale;
        KeyConv = config.KeyConvWidth is { } width
            ? new KeyConvShape(geometry.Batch, dims.TotalK, dims.HeadsKv, dims.HeadDim, width)
            : null;
    }

    /// <summary>Tensor sizes and the resolved softmax scale.</summary>
    public AttentionDims Dims { get; }

    /// <summary>The configuration.</summary>
    public MobaConfig Config { get; }

    /// <summary>Routing sizes and parameters.</summary>
    public RoutingGeometry Geometry { get; }

    /// <summary>The softmax scale as the kernels use it.</summary>
    public float Scale { get; }

    /// <summary>The key convolution's shape, or null when the configuration has none.</summary>
    public KeyConvShape? KeyConv { get; }

    /// <summary>True when <paramref name="other"/> has the same sizes, batch and parameters.</summary>
    public bool SameAs(MobaProblem other) =>
        Dims == other.Dims
        && Config == other.Config
        && Geometry.CuSeqlensQ.AsSpan().SequenceEqual(other.Geometry.CuSeqlensQ)
        && Geometry.CuSeqlensK.AsSpan().SequenceEqual(other.Geometry.CuSeqlensK);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> unless <paramref name="other"/> is this problem.</summary>
    public void RequireSame(MobaProblem other, string paramName)
    {
        if (!SameAs(other))
            throw new ArgumentException(
                $"{paramName} was made for a different problem (batch, shapes or configuration).", paramName);
    }
}
