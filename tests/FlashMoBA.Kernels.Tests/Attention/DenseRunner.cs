using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>One dense attention problem of the CPU tests: varlen lengths, heads, d, masking, dtype, seed.</summary>
internal sealed record DenseCase(int[] LengthsQ, int[] LengthsK, int Heads, int HeadsKv, int HeadDim, bool Causal,
    ElementType ElementType, int Seed)
{
    /// <summary>The reference's shape.</summary>
    public AttentionShape Shape => AttentionShape.FromLengths(LengthsQ, LengthsK, Heads, HeadsKv, HeadDim);

    /// <summary>The library's shape.</summary>
    public DenseShape DenseShape => Kernels.Attention.DenseShape.Of(VarlenBatch.FromLengths(LengthsQ, LengthsK),
        Heads, HeadsKv, HeadDim);

    /// <summary>1/√d.</summary>
    public double Scale => 1.0 / Math.Sqrt(HeadDim);

    /// <summary>Short label for failure messages.</summary>
    public override string ToString() =>
        $"q=[{string.Join(',', LengthsQ)}] k=[{string.Join(',', LengthsK)}] H{Heads}/{HeadsKv} d{HeadDim} "
        + $"{(Causal ? "causal" : "full")} {ElementType} seed {Seed}";
}

/// <summary>What one run of the library returned, widened to double.</summary>
internal sealed record DenseRun(double[] Output, double[] Lse, double[]? DQ, double[]? DK, double[]? DV);

/// <summary>
/// Runs <see cref="DenseAttention"/> on an accelerator: uploads seeded inputs (already rounded to the storage
/// type, so the float64 reference sees exactly what the kernels read), poisons every output and the D
/// scratch with NaN so an element the library forgets to write fails, runs forward (and backward) and
/// downloads everything. The fp32 dQ accumulator is left alone: the library zeroes it, and an atomic add
/// on NaN never finishes on the CPU.
/// </summary>
internal static class DenseRunner
{
    /// <summary>Runs the case on <paramref name="inputs"/> (q, k, v, dO).</summary>
    public static DenseRun Run(Accelerator accelerator, DenseCase testCase, MobaInputs inputs, bool backward) =>
        testCase.ElementType == ElementType.BFloat16
            ? Run<BFloat16>(accelerator, testCase, inputs, backward)
            : Run<System.Half>(accelerator, testCase, inputs, backward);

    /// <summary>Seeded Normal(0, 1) q, k, v, dO of the case's shape.</summary>
    public static MobaInputs Inputs(DenseCase testCase) =>
        MobaInputs.Create(new MobaCase(testCase.LengthsQ, testCase.LengthsK, testCase.Heads, testCase.HeadsKv,
            testCase.HeadDim, 64, 1, testCase.Causal, testCase.ElementType, testCase.Seed));

    private static DenseRun Run<T>(Accelerator accelerator, DenseCase testCase, MobaInputs inputs, bool backward)
        where T : unmanaged
    {
        var shape = testCase.DenseShape;
        var cache = KernelCache.For(accelerator);
        var stream = accelerator.DefaultStream;
        var batch = VarlenBatch.FromLengths(testCase.LengthsQ, testCase.LengthsK);
        using var q = accelerator.Allocate1D(MobaHost.ToStorage<T>(inputs.Q));
        using var k = accelerator.Allocate1D(MobaHost.ToStorage<T>(inputs.K));
        using var v = accelerator.Allocate1D(MobaHost.ToStorage<T>(inputs.V));
        using var cuQ = accelerator.Allocate1D(batch.CuSeqlensQ.ToArray());
        using var cuK = accelerator.Allocate1D(batch.CuSeqlensK.ToArray());
        using var output = Poisoned(accelerator, shape.QLength, MobaHost.NaN<T>());
        using var lse = Poisoned(accelerator, shape.LseLength, float.NaN);
        float scale = (float)testCase.Scale;
        DenseAttention.Forward<T>(cache, stream, q.View, k.View, v.View, cuQ.View, cuK.View, shape, testCase.Causal, scale,
            output.View, lse.View);
        stream.Synchronize();
        double[] outputHost = MobaHost.FromStorage(output.GetAsArray1D());
        double[] lseHost = Array.ConvertAll(lse.GetAsArray1D(), x => (double)x);
        if (!backward) return new DenseRun(outputHost, lseHost, null, null, null);

        using var dOut = accelerator.Allocate1D(MobaHost.ToStorage<T>(inputs.DOut));
        using var delta = Poisoned(accelerator, shape.LseLength, float.NaN);
        using var dqAccumulator = accelerator.Allocate1D<float>(shape.QLength);
        using var dq = Poisoned(accelerator, shape.QLength, MobaHost.NaN<T>());
        using var dk = Poisoned(accelerator, shape.KvLength, MobaHost.NaN<T>());
        using var dv = Poisoned(accelerator, shape.KvLength, MobaHost.NaN<T>());
        DenseAttention.Backward<T>(cache, stream, dOut.View, q.View, k.View, v.View, output.View, lse.View, cuQ.View,
            cuK.View, shape, testCase.Causal, scale, delta.View, dqAccumulator.View, dq.View, dk.View, dv.View);
        stream.Synchronize();
        return new DenseRun(outputHost, lseHost, MobaHost.FromStorage(dq.GetAsArray1D()),
            MobaHost.FromStorage(dk.GetAsArray1D()), MobaHost.FromStorage(dv.GetAsArray1D()));
    }

    private static MemoryBuffer1D<TValue, Stride1D.Dense> Poisoned<TValue>(Accelerator accelerator, long length,
        TValue poison)
        where TValue : unmanaged
    {
        var host = new TValue[length];
        Array.Fill(host, poison);
        return accelerator.Allocate1D(host);
    }
}
