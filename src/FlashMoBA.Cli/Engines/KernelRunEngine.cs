using FlashMoBA.Cli.Devices;
using FlashMoBA.Cli.Tensors;

namespace FlashMoBA.Cli.Engines;

/// <summary>
/// <c>--engine kernels</c> (the default): the library's <see cref="MobaAttention"/> on the accelerator
/// chosen by <c>--device</c> — router, attention forward and, with dOut, the backward; with a key
/// convolution configured, k is convolved first and dW is returned.
/// </summary>
internal sealed class KernelRunEngine : IRunEngine
{
    /// <inheritdoc/>
    public string Name => "kernels";

    /// <inheritdoc/>
    public int Priority => 10;

    /// <inheritdoc/>
    public string Describe(Commands.RunOptions options) =>
        $"engine kernels: MobaAttention on --device {options.Device.ToString().ToLowerInvariant()}";

    /// <inheritdoc/>
    public RunResult Execute(RunProblem problem, Commands.RunOptions options)
    {
        using var session = DeviceSession.Open(options.Device, profiling: false);
        using var attention = new MobaAttention(session.Accelerator);
        return problem.Config.ElementType == ElementType.Float16
            ? Run(attention, problem, x => HostConvert.ToHalf(x), x => HostConvert.ToFloat(x))
            : Run(attention, problem, x => HostConvert.ToBFloat16(x), x => HostConvert.ToFloat(x));
    }

    private static RunResult Run<T>(MobaAttention attention, RunProblem problem, Func<float[], T[]> narrow, Func<T[], float[]> widen)
        where T : unmanaged
    {
        var accelerator = attention.Accelerator;
        var dims = problem.Dims;
        using var q = DeviceTensor<T>.Upload(accelerator, narrow(problem.Q), dims.QShape);
        using var k = DeviceTensor<T>.Upload(accelerator, narrow(problem.K), dims.KvShape);
        using var v = DeviceTensor<T>.Upload(accelerator, narrow(problem.V), dims.KvShape);
        using var weights = problem.KeyConvWeights is { } w
            ? DeviceTensor<float>.Upload(accelerator, w, problem.Config.KeyConvWidth!.Value, dims.HeadsKv, dims.HeadDim)
            : null;
        using var forward = attention.Forward(q, k, v, problem.Batch, problem.Config, weights);
        float[] output = widen(forward.Output.Download());
        float[] lse = forward.Lse.Download();
        if (problem.DOut is not { } dOutValues) return new RunResult(output, lse, null, null, null, null);

        using var dOut = DeviceTensor<T>.Upload(accelerator, narrow(dOutValues), dims.QShape);
        using var gradients = attention.Backward(dOut, q, k, v, forward, problem.Batch, problem.Config, weights);
        return new RunResult(output, lse, widen(gradients.DQ.Download()), widen(gradients.DK.Download()),
            widen(gradients.DV.Download()), gradients.DW?.Download());
    }
}
