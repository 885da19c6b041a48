using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Routing;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// The head-chunk plan (host arithmetic only): chunks cover every head once in whole GQA groups, and the
/// automatic choice for the benchmark shape (b = 2, H = 16, d = 128, fp16, B = 128, topK = 8) on an
/// H200's 132 SMs keeps the scratch within budget and reaches the wave floor by splitting the forward's
/// segments into parts, raising the chunk only past the parts' cap.
/// </summary>
public sealed class MobaHeadChunkingTests
{
    private const int H200Multiprocessors = 132;
    private const int Fp16Bytes = 2;

    [Theory]
    [InlineData(16, 1, 3, new[] { 3, 3, 3, 3, 2, 2 })]
    [InlineData(16, 1, 16, new[] { 16 })]
    [InlineData(4, 2, 2, new[] { 2, 2 })]
    [InlineData(3, 1, 2, new[] { 2, 1 })]
    [InlineData(8, 4, 100, new[] { 8 })]
    [InlineData(12, 2, 8, new[] { 6, 6 })]
    public void Split_CoversEveryHeadOnceInBalancedWholeGroups(int heads, int groupSize, int chunkHeads, int[] expected)
    {
        var chunks = MobaHeadChunking.Split(heads, groupSize, chunkHeads);

        Assert.Equal(expected, chunks.Select(c => c.Count).ToArray());
        int next = 0;
        foreach (var chunk in chunks)
        {
            Assert.Equal(next, chunk.First);
            Assert.Equal(0, chunk.Count % groupSize);
            next += chunk.Count;
        }
        Assert.Equal(heads, next);
    }

    [Fact]
    public void HeadRange_AccumulatorElement_IndexesTheChunk()
    {
        // H = 6, d = 16 (2 chunks of 8 halves per row), chunk = heads 2..4.
        var chunk = new MobaHeadRange(2, 3);
        int firstChunk = (5 * 6 + 3) * 2; // row 5, head 3
        Assert.Equal((5 * 3 + 1) * 16 + 7, chunk.AccumulatorElement(firstChunk, 2, 6, 7));
        Assert.Equal(-1, chunk.AccumulatorElement(-1, 2, 6, 7));
        Assert.Equal(5 * 3 + 2, chunk.Pair(5, 4));
    }

    /// <summary>
    /// The automatic forward plan for the benchmark shape: one-head chunks (8 MiB of fp32 accumulator per
    /// head and 8K tokens of each of the 2 sequences, 3.1% of the inputs and outputs) with the waves made up
    /// by parts, 1 part (the unsplit schedule) from 64K on; at 4K the 8-part cap raises the chunk to 2 heads.
    /// </summary>
    [Theory]
    [InlineData(4096, 2, 8, 2, 8)]
    [InlineData(8192, 1, 8, 2, 8)]
    [InlineData(16384, 1, 4, 1, 16)]
    [InlineData(32768, 1, 2, 1, 32)]
    [InlineData(65536, 1, 1, 1, 64)]
    [InlineData(131072, 1, 1, 1, 128)]
    [InlineData(524288, 1, 1, 1, 512)]
    public void ForwardPlan_BenchShape_BudgetWithWavesFromParts(int seqlen, int expectedChunk, int expectedOutputParts,
        int expectedStatsParts, int expectedScratchMiB)
    {
        var g = BenchGeometry(seqlen);

        int chunk = MobaHeadChunking.ForwardHeads(g, Fp16Bytes, requested: null, H200Multiprocessors);
        int statsHeads = MobaHeadChunking.StatsHeads(g, chunk);
        int outputParts = MobaHeadChunking.ForwardParts(g, chunk, MobaHeadChunking.ForwardCtasPerMultiprocessor,
            H200Multiprocessors);
        int statsParts = MobaHeadChunking.ForwardParts(g, statsHeads, MobaHeadChunking.StatsCtasPerMultiprocessor,
            H200Multiprocessors);

        Assert.Equal(expectedChunk, chunk);
        Assert.Equal(expectedOutputParts, outputParts);
        Assert.Equal(expectedStatsParts, statsParts);
        Assert.Equal(8 * chunk, statsHeads); // d / (2 topK) = 8 heads of statistics per head of accumulator
        double outputWaves = (double)g.TotalBlocks * chunk * outputParts
            / (MobaHeadChunking.ForwardCtasPerMultiprocessor * H200Multiprocessors);
        double statsWaves = (double)g.TotalBlocks * statsHeads * statsParts
            / (MobaHeadChunking.StatsCtasPerMultiprocessor * H200Multiprocessors);
        Assert.True(outputWaves >= MobaHeadChunking.MinWaves, $"{outputWaves} output waves at N={seqlen}");
        Assert.True(statsWaves >= MobaHeadChunking.MinWaves, $"{statsWaves} statistics waves at N={seqlen}");
        // The fewest parts that reach the waves.
        Assert.True(outputParts == 1 || outputWaves * (outputParts - 1) / outputParts < MobaHeadChunking.MinWaves);

        var plan = MobaHeadChunking.ForwardPlan(g.Heads, g.GroupSize, chunk, statsHeads);
        long scratch = 4 * MobaHeadChunking.ForwardScratchFloats(g, plan);
        Assert.Equal(expectedScratchMiB * (1L << 20), scratch); // the statistics fit in the accumulator's space
        long footprint = Fp16Bytes * 4L * g.TotalQ * g.Heads * g.HeadDim + 4L * g.TotalQ * g.Heads;
        Assert.True(scratch <= MobaHeadChunking.WorkspaceBudget * footprint || chunk == 2 && seqlen == 4096,
            $"scratch {scratch} of {footprint} at N={seqlen}");
    }

    [Theory]
    [InlineData(8192, 16, 2, 1)] // all heads at once: the waves without parts
    [InlineData(8192, 2, 2, 4)] // 256 CTAs: 4 parts give 3.9 waves
    [InlineData(8192, 1, 4, 8)] // 4 CTAs per SM: 128 CTAs would need 15 parts, capped
    [InlineData(65536, 1, 2, 1)]
    public void ForwardParts_FewestForTheWaves_AtMostTheCap(int seqlen, int heads, int ctasPerMultiprocessor, int expected)
    {
        var g = BenchGeometry(seqlen);
        Assert.Equal(expected, MobaHeadChunking.ForwardParts(g, heads, ctasPerMultiprocessor, H200Multiprocessors));
        Assert.InRange(expected, 1, MobaHeadChunking.MaxForwardParts);
    }

    [Theory]
    [InlineData(128, 8, 1, 8)] // d / (2 topK) = 8 chunks of statistics per accumulator
    [InlineData(128, 8, 4, 16)] // capped at H
    [InlineData(64, 64, 2, 2)] // statistics larger than the accumulator: one chunk per group
    public void StatsHeads_FitInTheAccumulatorsSpace(int headDim, int topK, int chunkHeads, int expected)
    {
        var g = RoutingGeometry.Create([0, 4096], [0, 4096], 16, 16, headDim, 128, topK, true, ElementType.Float16);
        Assert.Equal(expected, MobaHeadChunking.StatsHeads(g, chunkHeads));
    }

    [Fact]
    public void ForwardPlan_GroupsOfChunks_CoverEveryHeadOnce()
    {
        var plan = MobaHeadChunking.ForwardPlan(heads: 12, groupSize: 2, chunkHeads: 2, statsHeads: 8);

        Assert.Equal([(0, 6), (6, 6)], plan.Select(p => (p.Group.First, p.Group.Count)));
        Assert.Equal([0, 2, 4, 6, 8, 10], plan.SelectMany(p => p.Chunks).Select(c => c.First));
        Assert.All(plan.SelectMany(p => p.Chunks), c => Assert.Equal(2, c.Count));
        Assert.All(plan, p => Assert.Equal(p.Group.Count, p.Chunks.Sum(c => c.Count)));

        var g = RoutingGeometry.Create([0, 100], [0, 100], 12, 6, 64, 16, 3, true, ElementType.Float16);
        // Largest of 2 heads × 64 accumulator floats and 6 heads × 2 × 3 statistics floats, per row.
        Assert.Equal(100L * Math.Max(2 * 64, 6 * 2 * 3), MobaHeadChunking.ForwardScratchFloats(g, plan));
    }

    [Theory]
    [InlineData(8192, 3)]
    [InlineData(65536, 3)]
    [InlineData(524288, 3)]
    public void BackwardHeads_BenchShape_WithinBudget(int seqlen, int expected)
    {
        var g = BenchGeometry(seqlen);

        int chunk = MobaHeadChunking.BackwardHeads(g, Fp16Bytes, requested: null, H200Multiprocessors);

        Assert.Equal(expected, chunk);
        long footprint = Fp16Bytes * 8L * g.TotalQ * g.Heads * g.HeadDim + 8L * g.TotalQ * g.Heads;
        Assert.True(4L * g.TotalQ * chunk * g.HeadDim <= MobaHeadChunking.WorkspaceBudget * footprint);
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(16, 16)]
    [InlineData(40, 16)]
    public void Requested_IsCappedAtHeads(int requested, int expected)
    {
        var g = BenchGeometry(8192);
        Assert.Equal(expected, MobaHeadChunking.ForwardHeads(g, Fp16Bytes, requested, H200Multiprocessors));
        Assert.Equal(expected, MobaHeadChunking.BackwardHeads(g, Fp16Bytes, requested, H200Multiprocessors));
    }

    private static RoutingGeometry BenchGeometry(int seqlen) =>
        RoutingGeometry.Create([0, seqlen, 2 * seqlen], [0, seqlen, 2 * seqlen], 16, 16, 128, 128, 8, true,
            ElementType.Float16);
}
