using FlashMoBA.Cli.Tensors;
using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Reference;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Verify;

/// <summary>
/// Dense FlashAttention-2 (forward output and LSE, backward dq, dk, dv) against the float64
/// <see cref="DenseReference"/> on the standard cases (ragged, varlen, GQA, MQA, both dtypes and head
/// dims, causal and full). Every output and the D scratch are poisoned with NaN before the run.
/// </summary>
internal sealed class DenseFamily : IVerifyFamily
{
    /// <inheritdoc/>
    public string Name => "dense";

    /// <inheritdoc/>
    public int Order => 30;

    /// <inheritdoc/>
    public IEnumerable<VerifyCase> Cases(VerifySizes sizes) => VerifyCases.Standard(sizes);

    /// <inheritdoc/>
    public IEnumerable<VerifyCheck> Run(VerifyContext context, VerifyCase testCase) =>
        testCase.ElementType == ElementType.Float16
            ? Run<Half>(context, testCase)
            : Run<BFloat16>(context, testCase);

    private static List<VerifyCheck> Run<T>(VerifyContext context, VerifyCase testCase)
        where T : unmanaged
    {
        var accelerator = context.Accelerator;
        var stream = accelerator.DefaultStream;
        var cache = KernelCache.For(accelerator);
        var reference = testCase.ReferenceShape;
        var batch = testCase.Batch;
        var shape = DenseShape.Of(batch, testCase.Heads, testCase.HeadsKv, testCase.HeadDim);
        var random = new Random(testCase.Seed);
        var type = testCase.ElementType;
        var q = SampledTensor.Normal(random, checked((int)shape.QLength), type);
        var k = SampledTensor.Normal(random, checked((int)shape.KvLength), type);
        var v = SampledTensor.Normal(random, checked((int)shape.KvLength), type);
        var dOut = SampledTensor.Normal(random, checked((int)shape.QLength), type);
        double scale = 1.0 / Math.Sqrt(testCase.HeadDim);

        using var qDevice = q.Upload<T>(accelerator);
        using var kDevice = k.Upload<T>(accelerator);
        using var vDevice = v.Upload<T>(accelerator);
        using var dOutDevice = dOut.Upload<T>(accelerator);
        using var cuQ = accelerator.Allocate1D(batch.CuSeqlensQ.ToArray());
        using var cuK = accelerator.Allocate1D(batch.CuSeqlensK.ToArray());
        using var output = DeviceArrays.PoisonedStorage<T>(accelerator, shape.QLength, type);
        using var lse = DeviceArrays.PoisonedFloat(accelerator, shape.LseLength);
        using var delta = DeviceArrays.PoisonedFloat(accelerator, shape.LseLength);
        using var dqAccumulator = accelerator.Allocate1D<float>(shape.QLength);
        using var dq = DeviceArrays.PoisonedStorage<T>(accelerator, shape.QLength, type);
        using var dk = DeviceArrays.PoisonedStorage<T>(accelerator, shape.KvLength, type);
        using var dv = DeviceArrays.PoisonedStorage<T>(accelerator, shape.KvLength, type);
        DenseAttention.Forward<T>(cache, stream, qDevice.View, kDevice.View, vDevice.View, cuQ.View, cuK.View, shape,
            testCase.Causal, (float)scale, output.View, lse.View);
        DenseAttention.Backward<T>(cache, stream, dOutDevice.View, qDevice.View, kDevice.View, vDevice.View, output.View,
            lse.View, cuQ.View, cuK.View, shape, testCase.Causal, (float)scale, delta.View, dqAccumulator.View, dq.View,
            dk.View, dv.View);
        stream.Synchronize();

        var expected = DenseReference.Forward(reference, q.Values, k.Values, v.Values, testCase.Causal, scale);
        var expectedGrads = DenseReference.Backward(reference, q.Values, k.Values, v.Values, dOut.Values,
            testCase.Causal, scale);
        double u = type == ElementType.Float16 ? Math.Pow(2, -11) : Math.Pow(2, -8);
        return
        [
            // P is rounded to 16 bits before P·V and the output once more: 2u·|o| + 2u·max|v|.
            VerifyCheck.Compare("out", DeviceArrays.DownloadStorage(output.View, type), expected.Output,
                new Tolerance(2 * u * MaxAbs(v.Values), 2 * u)),
            // fp32 scores and exp2/log2: 2e-4 absolute.
            VerifyCheck.Compare("lse", lse.GetAsArray1D(), expected.Lse, new Tolerance(2e-4, 0)),
            Gradient("dq", DeviceArrays.DownloadStorage(dq.View, type), expectedGrads.DQ, u),
            Gradient("dk", DeviceArrays.DownloadStorage(dk.View, type), expectedGrads.DK, u),
            Gradient("dv", DeviceArrays.DownloadStorage(dv.View, type), expectedGrads.DV, u),
        ];
    }

    /// <summary>P and dS are rounded to 16 bits before the gradient GEMMs and the result once more: 8u·max|reference|.</summary>
    private static VerifyCheck Gradient(string name, float[] actual, double[] expected, double u) =>
        VerifyCheck.Compare(name, actual, expected, new Tolerance(8 * u * MaxAbs(expected), 0));

    private static double MaxAbs(double[] values)
    {
        double max = 1e-30;
        foreach (double value in values) max = Math.Max(max, Math.Abs(value));
        return max;
    }
}
