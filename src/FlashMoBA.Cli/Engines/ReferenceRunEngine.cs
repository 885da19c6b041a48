using FlashMoBA.Cli.Tensors;
using FlashMoBA.Reference;

namespace FlashMoBA.Cli.Engines;

/// <summary>
/// <c>--engine reference</c>: the float64 reference of DESIGN.md §3 on the CPU, for checking results
/// from Python. Outputs and gradients are rounded to the storage type like the kernels' outputs.
/// </summary>
internal sealed class ReferenceRunEngine : IRunEngine
{
    /// <inheritdoc/>
    public string Name => "reference";

    /// <inheritdoc/>
    public int Priority => 0;

    /// <inheritdoc/>
    public string Describe(Commands.RunOptions options) => "engine reference: float64 MoBA reference on the CPU";

    /// <inheritdoc/>
    public RunResult Execute(RunProblem problem, Commands.RunOptions options)
    {
        var dims = problem.Dims;
        var config = problem.Config;
        var batch = problem.Batch;
        var shape = new AttentionShape(batch.CuSeqlensQ.ToArray(), batch.CuSeqlensK.ToArray(), dims.Heads, dims.HeadsKv, dims.HeadDim);
        double[] q = HostConvert.ToDouble(problem.Q), k = HostConvert.ToDouble(problem.K), v = HostConvert.ToDouble(problem.V);
        double[]? weights = problem.KeyConvWeights is { } w ? HostConvert.ToDouble(w) : null;
        int width = config.KeyConvWidth ?? 0;
        double[] keys = weights is null ? k : KeyConvReference.Forward(shape.CuSeqlensK, dims.HeadsKv, dims.HeadDim, k, weights, width);

        var forward = MobaReference.Forward(shape, q, keys, v, config.BlockSize, config.TopK, config.Causal, dims.SoftmaxScale);
        var type = config.ElementType;
        float[] output = HostConvert.RoundTo(HostConvert.ToFloat(forward.Output), type);
        float[] lse = HostConvert.ToFloat(forward.Lse);
        if (problem.DOut is not { } dOut) return new RunResult(output, lse, null, null, null, null);

        var grads = MobaReference.Backward(shape, q, keys, v, HostConvert.ToDouble(dOut), config.BlockSize, config.TopK,
            config.Causal, dims.SoftmaxScale);
        double[] dk = grads.DK;
        float[]? dw = null;
        if (weights is not null)
        {
            var conv = KeyConvReference.Backward(shape.CuSeqlensK, dims.HeadsKv, dims.HeadDim, k, weights, width, grads.DK);
            dk = conv.DK;
            dw = HostConvert.ToFloat(conv.DW);
        }
        return new RunResult(output, lse,
            HostConvert.RoundTo(HostConvert.ToFloat(grads.DQ), type),
            HostConvert.RoundTo(HostConvert.ToFloat(dk), type),
            HostConvert.RoundTo(HostConvert.ToFloat(grads.DV), type),
            dw);
    }
}
