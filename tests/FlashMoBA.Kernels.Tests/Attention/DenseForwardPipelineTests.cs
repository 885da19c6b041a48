using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// The dense forward's double-buffered key/value stages over many key tiles: with four or more tiles per
/// CTA each stage is overwritten while the other is read, and reused after that, so a missing barrier or
/// a wrong stage index shows up as a wrong output. Ragged last tiles (zero rows loaded into the stage),
/// varlen with a short second sequence, d = 64 and 128, fp16 and bf16.
/// Tolerances: <see cref="MobaTolerances"/>, as in <see cref="DenseAttentionTests"/>.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class DenseForwardPipelineTests(AcceleratorFixture fixture)
{
    public static TheoryData<int[], int[], int, int, int, bool, ElementType> Cases() => new()
    {
        // Few query rows against 4 ragged key tiles (250 = 3·64 + 58), non-causal, d=128.
        { [9], [250], 1, 1, 128, false, ElementType.Float16 },
        // Varlen causal: 5 key tiles for the last query tile of the long sequence; a 3-row sequence; GQA.
        { [300, 3], [300, 40], 2, 1, 64, true, ElementType.BFloat16 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_ManyKeyTiles_MatchesReference(int[] lengthsQ, int[] lengthsK, int heads, int headsKv,
        int headDim, bool causal, ElementType elementType)
    {
        var testCase = new DenseCase(lengthsQ, lengthsK, heads, headsKv, headDim, causal, elementType, Seed: 29);
        var inputs = DenseRunner.Inputs(testCase);
        var expected = DenseReference.Forward(testCase.Shape, inputs.Q, inputs.K, inputs.V, causal);

        var run = DenseRunner.Run(fixture.Accelerator, testCase, inputs, backward: false);

        double u = MobaTolerances.UnitRoundoff(elementType);
        MobaAssert.Close(expected.Output, run.Output, MobaTolerances.OutputRoundings * u,
            MobaTolerances.OutputRoundings * u * MobaAssert.MaxAbs(inputs.V), $"output ({testCase})");
        MobaAssert.Close(expected.Lse, run.Lse, 0, MobaTolerances.LseAbsolute, $"lse ({testCase})");
    }
}
