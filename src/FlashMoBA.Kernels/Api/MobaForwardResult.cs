using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA;

/// <summary>
/// What <see cref="MobaAttention.Forward{T}(DeviceTensor{T}, DeviceTensor{T}, DeviceTensor{T}, VarlenBatch, MobaConfig, DeviceTensor{float}?)"/>
/// produces: the attention output, the log-sum-exp the backward needs, and the routing (which key blocks
/// each query row attends to). Owns its device memory; dispose it when done. It can be passed back to
/// a later forward of the same problem to reuse its buffers.
/// </summary>
/// <typeparam name="T">Storage type of the output: <see cref="System.Half"/>, <see cref="ILGPU.Half"/> or <see cref="BFloat16"/>.</typeparam>
public sealed class MobaForwardResult<T> : IDisposable
    where T : unmanaged
{
    private MobaForwardResult(MobaProblem problem, DeviceTensor<T> output, DeviceTensor<float> lse, RoutingPlan plan,
        MemoryBuffer1D<int, Stride1D.Dense> launchOrder, MemoryBuffer1D<T, Stride1D.Dense>? convolvedKeys)
    {
        Problem = problem;
        Output = output;
        Lse = lse;
        Plan = plan;
        LaunchOrder = launchOrder;
        ConvolvedKeys = convolvedKeys;
    }

    /// <summary>Attention output <c>[totalQ, H, d]</c>; rows that attend to nothing are 0.</summary>
    public DeviceTensor<T> Output { get; }

    /// <summary>Natural-log LSE <c>[H, totalQ]</c> in fp32; +∞ for rows that attend to nothing.</summary>
    public DeviceTensor<float> Lse { get; }

    /// <summary>Query rows per head per selected block: <c>TopK</c> of the configuration.</summary>
    public int TopK => Problem.Geometry.TopK;

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed { get; private set; }

    internal MobaProblem Problem { get; }

    internal RoutingPlan Plan { get; }

    internal MemoryBuffer1D<int, Stride1D.Dense> LaunchOrder { get; }

    /// <summary>k′ = k + SiLU(conv(k)) when the configuration has a key convolution, else null.</summary>
    internal MemoryBuffer1D<T, Stride1D.Dense>? ConvolvedKeys { get; }

    /// <summary>
    /// Copies the routing to the host: <c>topkIndex [totalQ, H, TopK]</c>, sequence-local key-block indices
    /// each row attends to (in causal mode slot 0 is the row's own block), −1 for unused slots. Waits for
    /// the forward to finish.
    /// </summary>
    public int[] DownloadTopkIndex()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        var g = Problem.Geometry;
        var host = new int[(long)g.TotalQ * g.Heads * g.TopK];
        var stream = Plan.TopkIndex.Accelerator.DefaultStream;
        stream.Synchronize();
        if (host.Length > 0) Plan.TopkIndex.View.SubView(0, host.Length).CopyToCPU(stream, host);
        stream.Synchronize();
        return host;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Output.Dispose();
        Lse.Dispose();
        Plan.Dispose();
        LaunchOrder.Dispose();
        ConvolvedKeys?.Dispose();
    }

    /// <summary>Allocates every buffer of a forward of <paramref name="problem"/>.</summary>
    internal static MobaForwardResult<T> Allocate(Accelerator accelerator, MobaProblem problem)
    {
        var d = problem.Dims;
        using var scope = new AllocationScope();
        var output = scope.Track(DeviceTensor<T>.Allocate(accelerator, d.QShape));
        var lse = scope.Track(DeviceTensor<float>.Allocate(accelerator, d.LseShape));
        var plan = scope.Track(RoutingPlan.Allocate(accelerator, problem.Geometry));
        var order = scope.Track(accelerator.Allocate1D(MobaLaunchOrder.Build(problem.Geometry.CuBlocks)));
        var keys = problem.KeyConv is { } conv ? scope.Track(accelerator.Allocate1D<T>(conv.KeyElements)) : null;
        return scope.Release(new MobaForwardResult<T>(problem, output, lse, plan, order, keys));
    }

    /// <summary>Throws unless this result is alive and was made for <paramref name="problem"/>.</summary>
    internal void RequireProblem(MobaProblem problem, string paramName)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Problem.RequireSame(problem, paramName);
    }
}
