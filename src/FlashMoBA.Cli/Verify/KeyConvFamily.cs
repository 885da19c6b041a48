using FlashMoBA.Cli.Commands;
using FlashMoBA.Cli.Tensors;
using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Verify;

/// <summary>
/// Key convolution (DESIGN.md §3): k′ = k + SiLU(conv_W(k)) forward, and dK, dW backward, for W = 3 and 5
/// on a varlen batch that includes a sequence shorter than W.
/// </summary>
internal sealed class KeyConvFamily : IVerifyFamily
{
    /// <summary>fp32 work before the final rounding: ≤ 5 products and a SiLU on O(1)–O(10) values,
    /// a few 2^−24 relative each; 1e−5 absolute covers it with margin and stays far below an fp16 ulp.</summary>
    private const double Fp32MathFloor = 1e-5;

    /// <summary>dW is an fp32 sum over all tokens of products of O(1) values: its rounding error grows with
    /// the token count; 5e−6 per token (2e−4 at 40 tokens) is ≥ 10× the observed error and far below the
    /// O(1) error of a wrong index or a lost term.</summary>
    private const double DwAbsolutePerToken = 5e-6;

    /// <summary>Weights are drawn uniformly from ±this, so pre-activations cover SiLU's curved range.</summary>
    private const double WeightRange = 0.9;

    /// <inheritdoc/>
    public string Name => "keyconv";

    /// <inheritdoc/>
    public int Order => 10;

    /// <inheritdoc/>
    public IEnumerable<VerifyCase> Cases(VerifySizes sizes)
    {
        int seed = sizes.Seed + 100;
        int[] widths = MobaConfig.SupportedKeyConvWidths.ToArray();
        foreach (int headDim in sizes.HeadDims)
        {
            for (int w = 0; w < widths.Length; w++)
            {
                int width = widths[w];
                foreach (var dtype in sizes.DtypesFor(w))
                {
                    int[] lengths = [sizes.Seqlen, 2, sizes.Seqlen / 2 + 1];
                    yield return new VerifyCase("varlen", lengths, lengths, sizes.HeadsKv, sizes.HeadsKv, headDim,
                        sizes.BlockSize, sizes.TopK, Causal: true, dtype, seed++)
                    {
                        KeyConvWidth = width,
                        CustomLabel = $"varlen n={string.Join(',', lengths)} Hk{sizes.HeadsKv} d{headDim} W{width} {dtype.ShortName()}",
                    };
                }
            }
        }
    }

    /// <inheritdoc/>
    public IEnumerable<VerifyCheck> Run(VerifyContext context, VerifyCase testCase) =>
        testCase.ElementType == ElementType.Float16
            ? Run<ILGPU.Half>(context.Accelerator, testCase)
            : Run<BFloat16>(context.Accelerator, testCase);

    private static List<VerifyCheck> Run<T>(Accelerator accelerator, VerifyCase testCase) where T : unmanaged
    {
        int width = testCase.KeyConvWidth ?? throw new ArgumentException("the case has no key-convolution width.", nameof(testCase));
        var batch = testCase.Batch;
        int[] cuSeqlensK = batch.CuSeqlensK.ToArray();
        var shape = new KeyConvShape(batch.Batch, batch.TotalK, testCase.HeadsKv, testCase.HeadDim, width);
        var random = new Random(testCase.Seed);
        var k = SampledTensor.Normal(random, (int)shape.KeyElements, testCase.ElementType);
        var weights = new float[shape.WeightElements];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)((random.NextDouble() * 2 - 1) * WeightRange);
        var dKPrime = SampledTensor.Normal(random, (int)shape.KeyElements, testCase.ElementType);

        var stream = accelerator.DefaultStream;
        using var kBuffer = k.Upload<T>(accelerator);
        using var dKPrimeBuffer = dKPrime.Upload<T>(accelerator);
        using var cuBuffer = accelerator.Allocate1D(cuSeqlensK);
        using var weightBuffer = accelerator.Allocate1D(weights);
        using var kOut = DeviceArrays.PoisonedStorage<T>(accelerator, shape.KeyElements, testCase.ElementType);
        using var dK = DeviceArrays.PoisonedStorage<T>(accelerator, shape.KeyElements, testCase.ElementType);
        using var dW = DeviceArrays.PoisonedFloat(accelerator, shape.WeightElements);
        int partials = KeyConvolution.DefaultPartials(accelerator, testCase.ElementType, shape);
        using var scratch = DeviceArrays.PoisonedFloat(accelerator, (long)partials * shape.WeightElements);

        KeyConvolution.Forward(stream, kBuffer.View, cuBuffer.View, weightBuffer.View, shape, kOut.View);
        KeyConvolution.Backward(stream, kBuffer.View, cuBuffer.View, weightBuffer.View, dKPrimeBuffer.View, shape,
            dK.View, dW.View, scratch.View, partials);
        stream.Synchronize();

        double[] weightsExact = Array.ConvertAll(weights, w => (double)w);
        double[] expectedK = KeyConvReference.Forward(cuSeqlensK, testCase.HeadsKv, testCase.HeadDim, k.Values, weightsExact, width);
        var expectedGrads = KeyConvReference.Backward(cuSeqlensK, testCase.HeadsKv, testCase.HeadDim, k.Values, weightsExact,
            width, dKPrime.Values);
        var stored = VerifyTolerances.StoredOnce(testCase.ElementType, Fp32MathFloor);
        return
        [
            VerifyCheck.Compare("k'", DeviceArrays.DownloadStorage(kOut.View, testCase.ElementType), expectedK, stored),
            VerifyCheck.Compare("dk", DeviceArrays.DownloadStorage(dK.View, testCase.ElementType), expectedGrads.DK, stored),
            VerifyCheck.Compare("dw", dW.GetAsArray1D(), expectedGrads.DW,
                new Tolerance(DwAbsolutePerToken * Math.Max(1, batch.TotalK), 0)),
        ];
    }
}
