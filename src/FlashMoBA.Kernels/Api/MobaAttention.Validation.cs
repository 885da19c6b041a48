using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Routing;

namespace FlashMoBA;

/// <summary>Argument checks of <see cref="MobaAttention"/>, all done before anything is launched.</summary>
public sealed partial class MobaAttention
{
    private MobaProblem ValidateInputs<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v, VarlenBatch batch,
        MobaConfig config, DeviceTensor<float>? keyConvWeights)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var dims = AttentionShapes.Validate(q, k, v, batch, config);
        RequireOnAccelerator(q, nameof(q));
        RequireOnAccelerator(k, nameof(k));
        RequireOnAccelerator(v, nameof(v));
        if (config.KeyConvWidth is not null)
        {
            if (keyConvWeights is null)
                throw new ArgumentException(
                    $"keyConvWeights [W, Hk, d] are required because config.KeyConvWidth = {config.KeyConvWidth}.",
                    nameof(keyConvWeights));
            AttentionShapes.RequireShape(keyConvWeights.Shape, [config.KeyConvWidth.Value, dims.HeadsKv, dims.HeadDim],
                nameof(keyConvWeights));
            RequireOnAccelerator(keyConvWeights, nameof(keyConvWeights));
        }
        else if (keyConvWeights is not null)
        {
            throw new ArgumentException(
                "keyConvWeights must be null when config.KeyConvWidth is null (no key convolution).", nameof(keyConvWeights));
        }

        RoutingGeometry geometry;
        try
        {
            geometry = RoutingGeometry.Create(batch.CuSeqlensQ.ToArray(), batch.CuSeqlensK.ToArray(), dims.Heads,
                dims.HeadsKv, dims.HeadDim, config.BlockSize, config.TopK, config.Causal, config.ElementType);
        }
        catch (ArgumentException error)
        {
            throw new ArgumentException($"The problem is too large for the router: {error.Message}", nameof(batch), error);
        }
        return new MobaProblem(dims, config, geometry);
    }

    private MobaProblem ValidateBackward<T>(DeviceTensor<T> dOut, DeviceTensor<T> q, DeviceTensor<T> k,
        DeviceTensor<T> v, MobaForwardResult<T> forward, VarlenBatch batch, MobaConfig config,
        DeviceTensor<float>? keyConvWeights)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(dOut);
        ArgumentNullException.ThrowIfNull(forward);
        var problem = ValidateInputs(q, k, v, batch, config, keyConvWeights);
        AttentionShapes.RequireShape(dOut.Shape, problem.Dims.QShape, nameof(dOut));
        RequireOnAccelerator(dOut, nameof(dOut));
        forward.RequireProblem(problem, nameof(forward));
        return problem;
    }

    private void RequireOnAccelerator<TElement>(DeviceTensor<TElement> tensor, string paramName)
        where TElement : unmanaged
    {
        ObjectDisposedException.ThrowIf(tensor.IsDisposed, tensor);
        if (!ReferenceEquals(tensor.Accelerator, Accelerator))
            throw new ArgumentException($"{paramName} lives on another accelerator than this MobaAttention's.", paramName);
    }

    /// <summary>
    /// A given routing must be <c>[totalQ, H, TopK]</c>, each entry −1 or a block of the row's own
    /// sequence, and no block twice among a row's slots (each (row, block) pair is attended once).
    /// </summary>
    private static void ValidateSelection(MobaProblem problem, int[] topkIndex, string paramName)
    {
        ArgumentNullException.ThrowIfNull(topkIndex, paramName);
        var g = problem.Geometry;
        long expected = (long)g.TotalQ * g.Heads * g.TopK;
        if (topkIndex.Length != expected)
            throw new ArgumentException(
                $"{paramName} must have totalQ · H · topK = {expected} entries [totalQ, H, topK], but has {topkIndex.Length}.",
                paramName);
        for (int b = 0; b < g.Batch; b++)
        {
            int blocks = g.CuBlocks[b + 1] - g.CuBlocks[b];
            for (int row = g.CuSeqlensQ[b]; row < g.CuSeqlensQ[b + 1]; row++)
            {
                for (int head = 0; head < g.Heads; head++)
                {
                    int first = (row * g.Heads + head) * g.TopK;
                    for (int slot = 0; slot < g.TopK; slot++)
                    {
                        int block = topkIndex[first + slot];
                        if (block < -1 || block >= blocks)
                            throw new ArgumentException(
                                $"{paramName}[{first + slot}] = {block} must be -1 or a block of sequence {b} (0..{blocks - 1}).",
                                paramName);
                        for (int earlier = 0; earlier < slot && block >= 0; earlier++)
                        {
                            if (topkIndex[first + earlier] == block)
                                throw new ArgumentException(
                                    $"{paramName} selects block {block} twice for row {row}, head {head}.", paramName);
                        }
                    }
                }
            }
        }
    }
}
