using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Tests.Infrastructure;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// The attention stage alone (forward and all gradients) on random routings that did not come from the
/// router, so that an attention bug cannot hide behind, or be blamed on, routing. Each row mixes several
/// concerns at tiny sizes (CPU emulation of tensor cores is slow): ragged lengths, varlen batches with
/// Nq &lt; Nk and Nq &gt; Nk (rows with p &lt; 0 attend to nothing), GQA and MQA, later blocks in a causal
/// selection (fully masked), rows selecting nothing, every B ∈ {16, 32, 64} and topK ∈ {1, 2, 4}; head
/// chunking forced to one KV group, to uneven chunks of two and one groups, with one statistics pass per
/// chunk or per several chunks, and left automatic; the forward's segments split over several CTAs
/// (parts) — forced, with segments of more tiles than parts and of fewer, forced to one, and automatic
/// (on the one-SM CPU device the automatic choice splits the small cases' few segments too).
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
        int blockSize, int topK, int[] lengthsQ, int[] lengthsK, int heads, int headsKv, int seed, int? headChunk) =>
        RunAndCheck(new MobaCase(lengthsQ, lengthsK, heads, headsKv, headDim, blockSize, topK, causal, type, seed,
            HeadChunk: headChunk), minTiles: 1);

    /// <summary>
    /// Segments long enough for several query tiles of <see cref="MobaForward.BlockM"/> rows (the longest has at
    /// least <paramref name="minTiles"/>), each split over <paramref name="parts"/> CTAs: a part takes every
    /// parts-th tile, and parts past a short segment have none.
    /// </summary>
    [Theory]
    // GQA, causal, varlen with Nq > Nk (rows attending to nothing) and a ragged last block; 3 parts, chunks of one KV group.
    [InlineData(ElementType.Float16, 64, true, 64, 4, new[] { 210, 40, 70 }, new[] { 210, 64, 45 }, 4, 2, 16, 2, 3, 3)]
    // The same with one part (the unsplit schedule) on the same multi-tile segments.
    [InlineData(ElementType.Float16, 64, true, 64, 4, new[] { 210, 40, 70 }, new[] { 210, 64, 45 }, 4, 2, 16, 2, 1, 3)]
    // d = 128 bf16, MQA, non-causal: most rows of the first sequence select both of its blocks (3-tile
    // segments), so with 2 parts one CTA takes tiles 0 and 2, the other tile 1; automatic chunks.
    [InlineData(ElementType.BFloat16, 128, false, 32, 2, new[] { 200, 9 }, new[] { 64, 50 }, 2, 1, 17, null, 2, 3)]
    // More parts than any segment has tiles (B = 16: short segments), automatic head chunks.
    [InlineData(ElementType.Float16, 64, true, 16, 2, new[] { 90, 33 }, new[] { 90, 40 }, 2, 2, 18, null, 5, 1)]
    // Automatic parts on multi-tile segments (one CPU SM: 2 parts for the statistics pass, 1 for the output pass).
    [InlineData(ElementType.BFloat16, 64, true, 64, 4, new[] { 210, 17 }, new[] { 210, 30 }, 2, 1, 19, null, null, 3)]
    public void ForwardBackward_RandomSelectionInParts_MatchesReference(ElementType type, int headDim, bool causal,
        int blockSize, int topK, int[] lengthsQ, int[] lengthsK, int heads, int headsKv, int seed, int? headChunk,
        int? parts, int minTiles) =>
        RunAndCheck(new MobaCase(lengthsQ, lengthsK, heads, headsKv, headDim, blockSize, topK, causal, type, seed,
            HeadChunk: headChunk, ForwardParts: parts), minTiles);

    /// <summary>Forward and backward on a random selection of <paramref name="testCase"/>, compared with the reference.</summary>
    private void RunAndCheck(MobaCase testCase, int minTiles)
    {
        var inputs = MobaInputs.Create(testCase);
        int[] selection = MobaHost.RandomSelection(testCase, new Random(testCase.Seed + 1000));
        Assert.True(LongestSegment(testCase, selection) > (minTiles - 1) * MobaForward.BlockM,
            $"longest segment {LongestSegment(testCase, selection)} rows, not {minTiles} tiles, in {testCase}");

        var run = MobaRunner.Run(fixture.Accelerator, testCase, inputs, selection, backward: true);

        Assert.Equal(selection, run.TopkIndex);
        MobaCheck.MatchesReference(testCase, inputs, run, selection);
    }

    /// <summary>Most query rows that chose one (sequence, head, key block).</summary>
    private static int LongestSegment(MobaCase testCase, int[] selection)
    {
        var shape = testCase.Shape;
        var rows = new Dictionary<(int Sequence, int Head, int Block), int>();
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int row = shape.CuSeqlensQ[b]; row < shape.CuSeqlensQ[b + 1]; row++)
            {
                for (int h = 0; h < shape.Heads; h++)
                {
                    for (int slot = 0; slot < testCase.TopK; slot++)
                    {
                        int block = selection[((long)row * shape.Heads + h) * testCase.TopK + slot];
                        if (block >= 0) rows[(b, h, block)] = rows.GetValueOrDefault((b, h, block)) + 1;
                    }
                }
            }
        }
        return rows.Count == 0 ? 0 : rows.Values.Max();
    }
}
