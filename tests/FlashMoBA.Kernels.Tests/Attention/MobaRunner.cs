using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Routing;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>What one run of the library returned, widened to double.</summary>
internal sealed record MobaRun(double[] Output, double[] Lse, int[] TopkIndex, double[]? DQ, double[]? DK, double[]? DV,
    double[]? DW);

/// <summary>
/// Runs <see cref="MobaAttention"/> on an accelerator for a <see cref="MobaCase"/>: uploads the inputs,
/// allocates the result buffers and poisons them (and the scratch the kernels read) with NaN, so an
/// element the library forgets to write fails the comparison, then runs forward (and backward)
/// into them and downloads everything.
/// </summary>
internal static class MobaRunner
{
    /// <summary>
    /// Runs the case. <paramref name="selection"/> replaces the router's choice (attention alone);
    /// <paramref name="storage"/> picks fp16's storage type (System.Half or ILGPU.Half).
    /// </summary>
    public static MobaRun Run(Accelerator accelerator, MobaCase testCase, MobaInputs inputs, int[]? selection,
        bool backward, Type? storage = null, double[]? keyConvWeights = null)
    {
        if (testCase.ElementType == ElementType.BFloat16)
            return Run<BFloat16>(accelerator, testCase, inputs, selection, backward, keyConvWeights);
        return storage == typeof(ILGPU.Half)
            ? Run<ILGPU.Half>(accelerator, testCase, inputs, selection, backward, keyConvWeights)
            : Run<System.Half>(accelerator, testCase, inputs, selection, backward, keyConvWeights);
    }

    private static MobaRun Run<T>(Accelerator accelerator, MobaCase testCase, MobaInputs inputs, int[]? selection,
        bool backward, double[]? keyConvWeights)
        where T : unmanaged
    {
        var shape = testCase.Shape;
        int[] qShape = [shape.TotalQ, shape.Heads, shape.HeadDim];
        int[] kvShape = [shape.TotalK, shape.HeadsKv, shape.HeadDim];
        var batch = testCase.Batch;
        var config = testCase.Config;
        using var attention = new MobaAttention(accelerator) { ForwardParts = testCase.ForwardParts };
        using var q = DeviceTensor<T>.Upload(accelerator, MobaHost.ToStorage<T>(inputs.Q), qShape);
        using var k = DeviceTensor<T>.Upload(accelerator, MobaHost.ToStorage<T>(inputs.K), kvShape);
        using var v = DeviceTensor<T>.Upload(accelerator, MobaHost.ToStorage<T>(inputs.V), kvShape);
        using var weights = keyConvWeights is null ? null : DeviceTensor<float>.Upload(accelerator,
            Array.ConvertAll(keyConvWeights, w => (float)w), testCase.KeyConvWidth!.Value, shape.HeadsKv, shape.HeadDim);

        using var forward = attention.AllocateForward(q, k, v, batch, config, weights);
        Poison(forward.Output, MobaHost.NaN<T>());
        Poison(forward.Lse, float.NaN);
        PoisonForwardScratch(attention, forward.Problem.Geometry, attention.ForwardChunkHeads<T>(forward.Problem));
        if (selection is null)
            attention.Forward(q, k, v, batch, config, forward, weights);
        else
            attention.ForwardWithSelection(q, k, v, batch, config, selection, forward, weights);

        double[] output = MobaHost.FromStorage(forward.Output.Download());
        double[] lse = Array.ConvertAll(forward.Lse.Download(), x => (double)x);
        int[] topkIndex = forward.DownloadTopkIndex();
        if (!backward) return new MobaRun(output, lse, topkIndex, null, null, null, null);

        using var dOut = DeviceTensor<T>.Upload(accelerator, MobaHost.ToStorage<T>(inputs.DOut), qShape);
        using var gradients = attention.AllocateGradients(q, k, v, batch, config, weights);
        Poison(gradients.DQ, MobaHost.NaN<T>());
        Poison(gradients.DK, MobaHost.NaN<T>());
        Poison(gradients.DV, MobaHost.NaN<T>());
        if (gradients.DW is { } dw) Poison(dw, float.NaN);
        int backwardChunk = LargestChunk(testCase, attention.BackwardChunkHeads<T>(forward.Problem));
        PoisonBackwardScratch(attention, (long)shape.TotalQ * backwardChunk * shape.HeadDim, (long)shape.Heads * shape.TotalQ);
        attention.Backward(dOut, q, k, v, forward, batch, config, gradients, weights);
        return new MobaRun(output, lse, topkIndex,
            MobaHost.FromStorage(gradients.DQ.Download()),
            MobaHost.FromStorage(gradients.DK.Download()),
            MobaHost.FromStorage(gradients.DV.Download()),
            gradients.DW is { } weightGrads ? Array.ConvertAll(weightGrads.Download(), x => (double)x) : null);
    }

    private static void Poison<T>(DeviceTensor<T> tensor, T value)
        where T : unmanaged
    {
        var host = new T[tensor.Length];
        Array.Fill(host, value);
        tensor.CopyFrom(host);
    }

    /// <summary>Query heads of the largest chunk the passes run with chunks of at most <paramref name="chunkHeads"/>.</summary>
    private static int LargestChunk(MobaCase testCase, int chunkHeads) =>
        MobaHeadChunking.Split(testCase.Heads, testCase.Heads / testCase.HeadsKv, chunkHeads).Max(c => c.Count);

    /// <summary>
    /// NaN into the forward's scratch region, which holds the per-slot statistics (read after writing) and
    /// then the fp32 accumulator (which the library zeroes first: an atomic add on NaN never finishes on the CPU).
    /// </summary>
    private static void PoisonForwardScratch(MobaAttention attention, RoutingGeometry geometry, int chunkHeads)
    {
        var plan = MobaHeadChunking.ForwardPlan(geometry.Heads, geometry.GroupSize, chunkHeads,
            MobaHeadChunking.StatsHeads(geometry, chunkHeads));
        var stream = attention.Accelerator.DefaultStream;
        var (region, _) = attention.Workspace.Get(stream, MobaHeadChunking.ForwardScratchFloats(geometry, plan), 0);
        if (region.Length > 0) region.Cast<byte>().MemSet(stream, 0xFF);
        stream.Synchronize();
    }

    /// <summary>
    /// NaN into D, laid out as the backward will lay it out after the dQ accumulator of its largest chunk
    /// of heads. The accumulator itself is left alone: the library zeroes it, and an atomic add on NaN
    /// never finishes on the CPU.
    /// </summary>
    private static void PoisonBackwardScratch(MobaAttention attention, long accumulatorFloats, long extraFloats)
    {
        var stream = attention.Accelerator.DefaultStream;
        var (_, extra) = attention.Workspace.Get(stream, accumulatorFloats, extraFloats);
        if (extra.Length > 0) extra.Cast<byte>().MemSet(stream, 0xFF);
        stream.Synchronize();
    }
}
