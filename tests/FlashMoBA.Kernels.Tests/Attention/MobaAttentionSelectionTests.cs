using FlashMoBA.Kernels.Tests.Infrastructure;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// The attention stage alone (forward and all gradients) on random routings that did not come from the
/// router, so that an attention bug cannot hide behind, or be blamed on, routing. Each row mixes several
/// concerns at tiny sizes (CPU emulation of tensor cores is slow): ragged lengths, varlen batches with
/// Nq &lt; Nk and Nq &gt; Nk (rows with p &lt; 0 attend to nothing), GQA and MQA, later blocks in a causal
/// selection (fully masked), rows selecting nothing, every B ∈ {16, 32, 64} and topK ∈ {1, 2, 4}; head
/// chunking forced to one KV group, to uneven chunks of two and one groups, with one statistics pass per
/// chunk or per several chunks, and left automatic.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class MobaAttentionSelectionTests(AcceleratorFixture fixture)
{
    [Theory]
    // GQA (H=4, Hk=2), causal, three sequences: Nq = Nk, Nq < Nk, Nq > Nk; chunks of one KV group.
    [InlineData(ElementType.Float16, 64, true, 16, 2, new[] { 37, 12, 20 }, new[] { 37, 30, 7 }, 4, 2, 11, 2)]
    // MQA, non-causal, rows selecting nothing, partial last blocks; automatic chunks (one group: all heads).
    [InlineData(ElementType.BFloat16, 64, false, 32, 4, new[] { 21, 14, 9 }, new[] { 70, 9, 40 }, 2, 1, 12, null)]
    // d = 128, one key block per row, a block of B = 64 that is one physical key tile; H = 3 in chunks of 2 + 1.
    [InlineData(ElementType.Float16, 128, true, 64, 1, new[] { 70 }, new[] { 70 }, 3, 3, 13, 2)]
    // d = 128 bf16, GQA, causal with Nq > Nk; automatic chunks.
    [InlineData(ElementType.BFloat16, 128, true, 16, 4, new[] { 26, 18 }, new[] { 40, 13 }, 2, 1, 14, null)]
    // topK = 32 at d = 64: a group's statistics fill the accumulator's space, so each chunk of one KV
    // group has its own statistics pass (two groups).
    [InlineData(ElementType.Float16, 64, true, 16, 32, new[] { 40, 23 }, new[] { 40, 23 }, 4, 2, 15, 2)]
    public void ForwardBackward_RandomSelection_MatchesReference(ElementType type, int headDim, bool causal,
        int blockSize, int topK, int[] lengthsQ, int[] lengthsK, int heads, int headsKv, int seed, int? headChunk)
    {
        var testCase = new MobaCase(lengthsQ, lengthsK, heads, headsKv, headDim, blockSize, topK, causal, type, seed,
            HeadChunk: headChunk);
        var inputs = MobaInputs.Create(testCase);
        int[] selection = MobaHost.RandomSelection(testCase, new Random(seed + 1000));

        var run = MobaRunner.Run(fixture.Accelerator, testCase, inputs, selection, backward: true);

        Assert.Equal(selection, run.TopkIndex);
        MobaCheck.MatchesReference(testCase, inputs, run, selection);
    }
}
