using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Routing;

[Collection(AcceleratorCollection.Name)]
public sealed class KeyBlockIndexTests
{
    private readonly AcceleratorFixture fixture;

    public KeyBlockIndexTests(AcceleratorFixture fixture) => this.fixture = fixture;

    /// <summary>How the random selections are drawn.</summary>
    public enum Pattern
    {
        /// <summary>Causal shape: own block in slot 0, distinct earlier blocks after it, −1 padding.</summary>
        Causal,

        /// <summary>Any distinct blocks, a random number of them, −1 padding.</summary>
        NonCausal,

        /// <summary>Every row also picks block 0, so one segment holds a whole sequence (attention sink).</summary>
        Sink,
    }

    [Theory]
    [InlineData(Pattern.Causal, new[] { 100, 33, 250 }, new[] { 100, 70, 250 }, 4, 16, 3, false, 1)]
    [InlineData(Pattern.NonCausal, new[] { 45, 0, 130 }, new[] { 60, 17, 90 }, 2, 16, 8, false, 2)]
    [InlineData(Pattern.NonCausal, new[] { 45, 0, 130 }, new[] { 60, 17, 90 }, 2, 16, 8, true, 2)]
    [InlineData(Pattern.Sink, new[] { 97, 160, 31 }, new[] { 97, 160, 64 }, 3, 32, 2, true, 3)]
    [InlineData(Pattern.Causal, new[] { 2100 }, new[] { 2100 }, 1, 64, 2, false, 4)]      // 64-row chunks: two steps each
    [InlineData(Pattern.Sink, new[] { 4200, 70 }, new[] { 4200, 64 }, 1, 64, 1, false, 5)] // topK 1, 96-row chunks
    [InlineData(Pattern.Sink, new[] { 4200, 70 }, new[] { 4200, 64 }, 1, 64, 1, true, 5)]
    public void Reindex_RandomSelections_EqualsHostRegrouping(Pattern pattern, int[] lengthsQ, int[] lengthsK,
                                                              int heads, int blockSize, int topK, bool globalScatter,
                                                              int seed)
    {
        var geometry = RoutingGeometry.Create(RoutingTestData.Cu(lengthsQ), RoutingTestData.Cu(lengthsK), heads, 1,
                                              16, blockSize, topK, pattern == Pattern.Causal, ElementType.Float16);
        int[] topkIndex = RandomSelections(geometry, pattern, new Random(seed));
        var accelerator = fixture.Accelerator;
        var stream = accelerator.DefaultStream;
        var router = new Router(accelerator);
        using var plan = RoutingPlan.Allocate(accelerator, geometry);
        plan.TopkIndex.View.SubView(0, topkIndex.Length).CopyFromCPU(stream, topkIndex);
        RoutingTestData.Poison(stream, plan.SegmentOffsets, int.MinValue);
        RoutingTestData.Poison(stream, plan.SegmentCounts, int.MinValue);
        RoutingTestData.Poison(stream, plan.SegmentRows, int.MinValue);
        RoutingTestData.Poison(stream, plan.ChunkCursors, int.MinValue);
        RoutingTestData.Poison(stream, plan.ChunkScratch, int.MinValue);

        router.BuildIndex(stream, plan, globalScatter);
        var snapshot = plan.CopyToHost(stream);

        AssertEqualsHostRegrouping(geometry, topkIndex, snapshot);
    }

    [Fact]
    public void Reindex_RunTwice_IsDeterministic()
    {
        var geometry = RoutingGeometry.Create(RoutingTestData.Cu(300, 41), RoutingTestData.Cu(300, 90), 2, 1, 16, 16,
                                              4, false, ElementType.Float16);
        int[] topkIndex = RandomSelections(geometry, Pattern.Sink, new Random(11));
        var accelerator = fixture.Accelerator;
        var stream = accelerator.DefaultStream;
        var router = new Router(accelerator);
        using var plan = RoutingPlan.Allocate(accelerator, geometry);
        plan.TopkIndex.View.SubView(0, topkIndex.Length).CopyFromCPU(stream, topkIndex);

        router.BuildIndex(stream, plan);
        var first = plan.CopyToHost(stream);
        RoutingTestData.Poison(stream, plan.SegmentRows, -7);
        router.BuildIndex(stream, plan);
        var second = plan.CopyToHost(stream);

        Assert.Equal(first.SegmentOffsets, second.SegmentOffsets);
        Assert.Equal(first.SegmentRows, second.SegmentRows);
    }

    /// <summary>
    /// Compares a plan's segment table and rows with a plain host regrouping of the selections:
    /// every (row, head, block) pair exactly once, rows strictly ascending within each segment.
    /// </summary>
    internal static void AssertEqualsHostRegrouping(RoutingGeometry geometry, int[] topkIndex,
                                                    RoutingPlanSnapshot snapshot)
    {
        var expected = new List<int>[geometry.Segments];
        for (int s = 0; s < expected.Length; s++)
            expected[s] = [];
        for (int b = 0; b < geometry.Batch; b++)
        {
            for (int t = 0; t < geometry.CuSeqlensQ[b + 1] - geometry.CuSeqlensQ[b]; t++)
            {
                for (int h = 0; h < geometry.Heads; h++)
                {
                    for (int slot = 0; slot < geometry.TopK; slot++)
                    {
                        int block = topkIndex[((geometry.CuSeqlensQ[b] + t) * geometry.Heads + h) * geometry.TopK + slot];
                        if (block >= 0)
                            expected[(geometry.CuBlocks[b] + block) * geometry.Heads + h].Add(t);
                    }
                }
            }
        }

        Assert.Equal(0, snapshot.SegmentOffsets[0]);
        for (int s = 0; s < geometry.Segments; s++)
        {
            Assert.True(expected[s].Count == snapshot.SegmentCounts[s],
                $"segment {s}: count {snapshot.SegmentCounts[s]}, expected {expected[s].Count}");
            Assert.True(snapshot.SegmentOffsets[s + 1] - snapshot.SegmentOffsets[s] == expected[s].Count,
                $"segment {s}: offsets {snapshot.SegmentOffsets[s]}..{snapshot.SegmentOffsets[s + 1]}, expected {expected[s].Count} rows");
            var actual = snapshot.SegmentRows.AsSpan(snapshot.SegmentOffsets[s], expected[s].Count).ToArray();
            Assert.True(expected[s].SequenceEqual(actual),
                $"segment {s}: rows [{Head(actual)}], expected [{Head(expected[s])}]");
        }
        Assert.Equal(expected.Sum(list => list.Count), snapshot.SegmentRows.Length);
    }

    private static string Head(IEnumerable<int> rows) => string.Join(",", rows.Take(40)) + (rows.Count() > 40 ? ",…" : "");

    private static int[] RandomSelections(RoutingGeometry geometry, Pattern pattern, Random random)
    {
        var topkIndex = new int[geometry.TotalQ * geometry.Heads * geometry.TopK];
        Array.Fill(topkIndex, -1);
        for (int b = 0; b < geometry.Batch; b++)
        {
            int nq = geometry.CuSeqlensQ[b + 1] - geometry.CuSeqlensQ[b];
            int nk = geometry.CuSeqlensK[b + 1] - geometry.CuSeqlensK[b];
            int blocks = geometry.CuBlocks[b + 1] - geometry.CuBlocks[b];
            for (int t = 0; t < nq; t++)
            {
                for (int h = 0; h < geometry.Heads; h++)
                {
                    int slotBase = ((geometry.CuSeqlensQ[b] + t) * geometry.Heads + h) * geometry.TopK;
                    var chosen = new List<int>();
                    int candidates = blocks;
                    if (pattern == Pattern.Causal)
                    {
                        int position = t + nk - nq;
                        if (position < 0)
                            continue;
                        chosen.Add(position / geometry.BlockSize);
                        candidates = position / geometry.BlockSize;
                    }
                    if (pattern == Pattern.Sink && blocks > 0)
                        chosen.Add(0);
                    int wanted = Math.Min(geometry.TopK, chosen.Count + candidates);
                    if (pattern != Pattern.Causal)
                        wanted = random.Next(Math.Min(chosen.Count, wanted), wanted + 1);
                    while (chosen.Count < wanted)
                    {
                        int block = random.Next(candidates);
                        if (!chosen.Contains(block))
                            chosen.Add(block);
                    }
                    for (int slot = 0; slot < chosen.Count; slot++)
                        topkIndex[slotBase + slot] = chosen[slot];
                }
            }
        }
        return topkIndex;
    }
}
