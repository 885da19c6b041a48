using FlashMoBA.Kernels.Tests.Infrastructure;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// The attention stage alone (forward and all gradients) on random routings that did not come from the
/// router, so that an attention bug cannot hide behind, or be blamed on, routing. Each row mixes several
/// concerns at tiny sizes (CPU emulation of tensor cores is slow): ragged lengths, varlen batches with
/// Nq &lt; Nk and Nq &gt; Nk (rows with p &lt; 0 attend to nothing), GQA and MQA, later blocks in a causal
/// selection (fully masked), rows selecting nothing, every B ∈ {16, 32, 64} and topK ∈ {1, 2, 4}.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class MobaAttentionSelectionTests(AcceleratorFixture fixture)
{
    [Theory]
    // GQA (H=4, Hk=2), causal, three sequences: Nq = Nk, Nq < Nk, Nq > Nk.
    [InlineData(ElementType.Float16, 64, true, 16, 2, new[] { 37, 12, 20 }, new[] { 37, 30, 7 }, 4, 2, 11)]
    // MQA, non-causal, rows selecting nothing, partial last blocks.
    [InlineData(ElementType.BFloat16, 64, false, 32, 4, new[] { 21, 14, 9 }, new[] { 70, 9, 40 }, 2, 1, 12)]
    // d = 128, one key block per row, a block of B = 64 that is one physical key tile.
    [InlineData(ElementType.Float16, 128, true, 64, 1, new[] { 70 }, new[] { 70 }, 2, 2, 13)]
    // d = 128 bf16, GQA, causal with Nq > Nk.
    [InlineData(ElementType.BFloat16, 128, true, 16, 4, new[] { 26, 18 }, new[] { 40, 13 }, 2, 1, 14)]
    public void ForwardBackward_RandomSelection_MatchesReference(ElementType type, int headDim, bool causal,
        int blockSize, int topK, int[] lengthsQ, int[] lengthsK, int heads, int headsKv, int seed)
    {
        var testCase = new MobaCase(lengthsQ, lengthsK, heads, headsKv, headDim, blockSize, topK, causal, type, seed);
        var inputs = MobaInputs.Create(testCase);
        int[] selection = MobaHost.RandomSelection(testCase, new Random(seed + 1000));

        var run = MobaRunner.Run(fixture.Accelerator, testCase, inputs, selection, backward: true);

        Assert.Equal(selection, run.TopkIndex);
        MobaCheck.MatchesReference(testCase, inputs, run, selection);
    }
}
