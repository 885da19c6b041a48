using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// The dense backward's pipelined walk over many query tiles per key tile: with three q/dO stages and two P/dS
/// buffers, a CTA that sees four or more query tiles writes every stage and buffer at least twice, so a
/// missing barrier, a wrong stage rotation or a next tile staged from the wrong (tile, head) shows up in dq, dk
/// or dv. The walks cross from one query head of the GQA group to the next (the next head restarts at the key
/// tile's first visible query tile), end on ragged query tiles (zero rows staged) and, under causal masking,
/// start on the diagonal. d = 64 and 128, fp16 and bf16. Tolerances: <see cref="MobaTolerances"/>, as in
/// <see cref="DenseAttentionTests"/>.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class DenseBackwardPipelineTests(AcceleratorFixture fixture)
{
    public static TheoryData<int[], int[], int, int, int, bool, ElementType> Cases() => new()
    {
        // 5 ragged query tiles (300 = 4·64 + 44) × 2 heads per key tile, non-causal, MQA, d=64.
        { [300], [70], 2, 1, 64, false, ElementType.BFloat16 },
        // Varlen causal: key tile 0 of the long sequence sees 4 query tiles per head; GQA H=4/Hk=2; d=128.
        { [250, 9], [260, 30], 4, 2, 128, true, ElementType.Float16 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_ManyQueryTilesPerKeyTile_MatchesReference(int[] lengthsQ, int[] lengthsK, int heads,
        int headsKv, int headDim, bool causal, ElementType elementType)
    {
        var testCase = new DenseCase(lengthsQ, lengthsK, heads, headsKv, headDim, causal, elementType, Seed: 41);
        var inputs = DenseRunner.Inputs(testCase);
        var gradients = DenseReference.Backward(testCase.Shape, inputs.Q, inputs.K, inputs.V, inputs.DOut, causal);

        var run = DenseRunner.Run(fixture.Accelerator, testCase, inputs, backward: true);

        double u = MobaTolerances.UnitRoundoff(elementType);
        DenseAttentionTests.CloseGradient(gradients.DQ, run.DQ!, u, $"dq ({testCase})");
        DenseAttentionTests.CloseGradient(gradients.DK, run.DK!, u, $"dk ({testCase})");
        DenseAttentionTests.CloseGradient(gradients.DV, run.DV!, u, $"dv ({testCase})");
    }
}
