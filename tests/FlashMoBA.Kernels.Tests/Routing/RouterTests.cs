using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.Tests.Routing;

/// <summary>
/// The whole router (centroids → FlashTopK → reindex) against <see cref="BlockRouting.SelectBlocks"/>.
/// Keys come from <see cref="RoutingTestData.ExactMeanKeys"/>, so the kernels' 16-bit centroids equal
/// the reference's and each gate score differs from the float64 one only by fp32 accumulation. A draw
/// is used only if every row's last selected and first rejected candidate are further apart than
/// that error can bridge; then the selected sets must be equal exactly.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class RouterTests
{
    /// <summary>Seeds tried before a test gives up on finding a draw without near-ties.</summary>
    private const int MaxDraws = 20;

    private readonly AcceleratorFixture fixture;

    public RouterTests(AcceleratorFixture fixture) => this.fixture = fixture;

    [Theory]
    // ragged single sequence (75 = 4·16 + 11)
    [InlineData(ElementType.Float16, true, new[] { 75 }, new[] { 75 }, 2, 2, 32, 16, 3, 1)]
    // varlen of three with Nq ≠ Nk, GQA, topK 8 > blocks available to early rows, 2 query tiles
    [InlineData(ElementType.BFloat16, true, new[] { 40, 130, 17 }, new[] { 70, 130, 50 }, 4, 2, 16, 16, 8, 2)]
    // non-causal varlen, MQA
    [InlineData(ElementType.Float16, false, new[] { 33, 90, 5 }, new[] { 100, 45, 16 }, 2, 1, 16, 32, 2, 3)]
    // causal topK 1 (own block only), B 64
    [InlineData(ElementType.BFloat16, true, new[] { 150, 64 }, new[] { 200, 64 }, 2, 1, 16, 64, 1, 4)]
    // non-causal with fewer blocks than topK, d 64
    [InlineData(ElementType.Float16, false, new[] { 20, 60 }, new[] { 40, 300 }, 1, 1, 64, 32, 8, 5)]
    // d 128: eight MMA k-steps
    [InlineData(ElementType.Float16, true, new[] { 40 }, new[] { 60 }, 1, 1, 128, 16, 3, 6)]
    // Nq > Nk: the first 60 rows have p < 0 and select nothing
    [InlineData(ElementType.BFloat16, true, new[] { 100 }, new[] { 40 }, 1, 1, 16, 16, 2, 7)]
    // 38 blocks: two centroid tiles of FlashTopK, causal and non-causal
    [InlineData(ElementType.Float16, true, new[] { 600 }, new[] { 600 }, 1, 1, 16, 16, 8, 8)]
    [InlineData(ElementType.BFloat16, false, new[] { 300 }, new[] { 600 }, 1, 1, 16, 16, 3, 9)]
    // topK 16: more candidates than the register list holds, so rows keep shared-memory lists
    [InlineData(ElementType.BFloat16, true, new[] { 600 }, new[] { 600 }, 1, 1, 16, 16, 16, 10)]
    public void Router_RandomInputs_SelectsReferenceSetsAndReindexesThem(
        ElementType type, bool causal, int[] lengthsQ, int[] lengthsK, int heads, int headsKv, int headDim,
        int blockSize, int topK, int seed)
    {
        var geometry = RoutingGeometry.Create(RoutingTestData.Cu(lengthsQ), RoutingTestData.Cu(lengthsK), heads,
                                              headsKv, headDim, blockSize, topK, causal, type);
        var shape = RoutingTestData.ShapeOf(geometry);
        var (q, k) = DrawWithoutNearTies(geometry, shape, seed);

        var snapshot = type == ElementType.BFloat16 ? Run<BFloat16>(geometry, q, k) : Run<Half>(geometry, q, k);

        int[] expected = BlockRouting.SelectBlocks(shape, q, k, blockSize, topK, causal);
        AssertSameSelections(geometry, expected, snapshot.TopkIndex);
        KeyBlockIndexTests.AssertEqualsHostRegrouping(geometry, snapshot.TopkIndex, snapshot);
        var centroids = BlockRouting.Centroids(shape, k, blockSize);
        var actualCentroids = snapshot.CentroidsAsFloat();
        for (int i = 0; i < centroids.Length; i++)
            Assert.True(centroids[i] == actualCentroids[i], $"centroid {i}: {actualCentroids[i]} vs exact {centroids[i]}");
    }

    [Fact]
    public void Router_TiedCentroids_TieGoesToHigherBlock()
    {
        // Blocks 1, 3 and 4 hold identical keys, so their scores are bit-identical for every query:
        // whichever of them is selected must be the highest-indexed ones.
        var geometry = RoutingGeometry.Create(RoutingTestData.Cu(96), RoutingTestData.Cu(96), 2, 1, 16, 16, 3, false,
                                              ElementType.Float16);
        var shape = RoutingTestData.ShapeOf(geometry);
        var random = new Random(21);
        var q = RoutingTestData.Normal(random, (long)geometry.TotalQ * 2 * 16, ElementType.Float16);
        var k = RoutingTestData.ExactMeanKeys(random, shape, 16);
        Array.Copy(k, 16 * 16, k, 3 * 16 * 16, 16 * 16);
        Array.Copy(k, 16 * 16, k, 4 * 16 * 16, 16 * 16);

        var snapshot = Run<Half>(geometry, q, k);

        int[] expected = BlockRouting.SelectBlocks(shape, q, k, 16, 3, false);
        AssertSameSelections(geometry, expected, snapshot.TopkIndex);
        int rowsWithTie = 0;
        for (int r = 0; r < geometry.TotalQ * 2; r++)
        {
            var set = snapshot.TopkIndex.AsSpan(r * 3, 3).ToArray();
            if (set.Contains(1))
                Assert.True(set.Contains(3) && set.Contains(4), $"row-head {r} chose block 1 over a tied higher block");
            if (set.Contains(3) && !set.Contains(4))
                Assert.Fail($"row-head {r} chose block 3 over the tied block 4");
            rowsWithTie += set.Contains(4) ? 1 : 0;
        }
        Assert.True(rowsWithTie > 10, "the tie case never arose");
    }

    [Fact]
    public void Build_MismatchedInputs_ThrowsBeforeLaunch()
    {
        var geometry = RoutingGeometry.Create(RoutingTestData.Cu(40), RoutingTestData.Cu(40), 2, 1, 16, 16, 2, true,
                                              ElementType.Float16);
        var accelerator = fixture.Accelerator;
        var router = new Router(accelerator);
        using var q = accelerator.Allocate1D<Half>(40 * 2 * 16);
        using var shortK = accelerator.Allocate1D<Half>(40 * 16 - 1);
        using var bf16 = accelerator.Allocate1D<BFloat16>(40 * 2 * 16);
        var error = Assert.Throws<ArgumentException>(() => router.Build(accelerator.DefaultStream, geometry, q.View.AsContiguous(), shortK.View.AsContiguous()));
        Assert.Equal("k", error.ParamName);
        error = Assert.Throws<ArgumentException>(() => router.Build(accelerator.DefaultStream, geometry, bf16.View.AsContiguous(), bf16.View.AsContiguous()));
        Assert.Equal("q", error.ParamName);
        using var padded = accelerator.Allocate1D<Half>(40 * 2 * 16 + 1);
        using var k = accelerator.Allocate1D<Half>(40 * 16);
        error = Assert.Throws<ArgumentException>(() => router.Build(accelerator.DefaultStream, geometry,
            padded.View.AsContiguous().SubView(1, 40 * 2 * 16), k.View.AsContiguous()));
        Assert.Equal("q", error.ParamName);
    }

    [Theory]
    [InlineData(0, "heads")]
    [InlineData(1, "headsKv")]
    [InlineData(2, "headDim")]
    [InlineData(3, "blockSize")]
    [InlineData(4, "topK")]
    [InlineData(5, "cuSeqlensQ")]
    [InlineData(6, "cuSeqlensK")]
    public void Geometry_BadArgument_ThrowsNamingIt(int rule, string argument)
    {
        int[] cuQ = rule == 5 ? [0, 30, 20] : [0, 30, 50];
        int[] cuK = rule == 6 ? [0, 30] : [0, 30, 60];
        var error = Assert.Throws<ArgumentException>(() => RoutingGeometry.Create(
            cuQ, cuK, rule == 0 ? 0 : 4, rule == 1 ? 3 : 2, rule == 2 ? 24 : 32, rule == 3 ? 24 : 16,
            rule == 4 ? 65 : 8, true, ElementType.Float16));
        Assert.Equal(argument, error.ParamName);
    }

    private RoutingPlanSnapshot Run<T>(RoutingGeometry geometry, double[] q, double[] k)
        where T : unmanaged
    {
        var accelerator = fixture.Accelerator;
        var stream = accelerator.DefaultStream;
        var router = new Router(accelerator);
        using var qBuffer = RoutingTestData.Upload<T>(accelerator, q);
        using var kBuffer = RoutingTestData.Upload<T>(accelerator, k);
        using var plan = RoutingPlan.Allocate(accelerator, geometry);
        RoutingTestData.Poison(stream, plan.TopkIndex, -2);
        RoutingTestData.Poison(stream, plan.Centroids, geometry.ElementType == ElementType.BFloat16 ? (ushort)0x7FC0 : (ushort)0x7E00);
        RoutingTestData.Poison(stream, plan.SegmentRows, int.MinValue);
        RoutingTestData.Poison(stream, plan.SegmentOffsets, int.MinValue);

        router.Build(stream, plan, qBuffer.View.AsContiguous(), kBuffer.View.AsContiguous());
        return plan.CopyToHost(stream);
    }

    /// <summary>Causal slot 0 is the own block; otherwise selections compare as sets (same size, same members).</summary>
    private static void AssertSameSelections(RoutingGeometry geometry, int[] expected, int[] actual)
    {
        int topK = geometry.TopK;
        Assert.Equal(expected.Length, actual.Length);
        for (int r = 0; r < expected.Length / topK; r++)
        {
            var want = expected.AsSpan(r * topK, topK).ToArray();
            var got = actual.AsSpan(r * topK, topK).ToArray();
            string where = $"row {r / geometry.Heads}, head {r % geometry.Heads}: got [{string.Join(",", got)}], expected [{string.Join(",", want)}]";
            if (geometry.Causal)
                Assert.True(want[0] == got[0], "own block differs at " + where);
            Assert.True(want.Order().SequenceEqual(got.Order()), "selected set differs at " + where);
            Assert.True(got.Where(b => b >= 0).Distinct().Count() == got.Count(b => b >= 0), "duplicate block at " + where);
            int firstUnused = Array.IndexOf(got, -1);
            Assert.True(firstUnused < 0 || got.Skip(firstUnused).All(b => b == -1), "−1 before a used slot at " + where);
        }
    }

    /// <summary>
    /// Seeded q (Normal, rounded to the dtype) and exact-mean keys such that, for every row and head,
    /// the score gap at the selection boundary exceeds the fp32 accumulation error bound of the two
    /// scores (d·2^-24·Σ|q_i·c_i| each); another seed is drawn otherwise.
    /// </summary>
    private static (double[] Q, double[] K) DrawWithoutNearTies(RoutingGeometry geometry, AttentionShape shape, int seed)
    {
        for (int draw = 0; draw < MaxDraws; draw++)
        {
            var random = new Random(seed * 1000 + draw);
            var q = RoutingTestData.Normal(random, (long)geometry.TotalQ * geometry.Heads * geometry.HeadDim, geometry.ElementType);
            var k = RoutingTestData.ExactMeanKeys(random, shape, geometry.BlockSize);
            if (!HasNearTie(geometry, shape, q, k))
                return (q, k);
        }
        throw new InvalidOperationException($"no draw without near-ties in {MaxDraws} seeds");
    }

    private static bool HasNearTie(RoutingGeometry geometry, AttentionShape shape, double[] q, double[] k)
    {
        double[] centroids = BlockRouting.Centroids(shape, k, geometry.BlockSize);
        int d = geometry.HeadDim;
        double gamma = d * Math.Pow(2, -24);
        for (int b = 0; b < geometry.Batch; b++)
        {
            int nq = geometry.CuSeqlensQ[b + 1] - geometry.CuSeqlensQ[b];
            int nk = geometry.CuSeqlensK[b + 1] - geometry.CuSeqlensK[b];
            int blocks = geometry.CuBlocks[b + 1] - geometry.CuBlocks[b];
            for (int t = 0; t < nq; t++)
            {
                int position = t + nk - nq;
                if (geometry.Causal && position < 0)
                    continue;
                int candidates = geometry.Causal ? position / geometry.BlockSize : blocks;
                int slots = geometry.Causal ? geometry.TopK - 1 : geometry.TopK;
                if (slots == 0 || candidates <= slots)
                    continue;
                for (int h = 0; h < geometry.Heads; h++)
                {
                    int qOffset = ((geometry.CuSeqlensQ[b] + t) * geometry.Heads + h) * d;
                    var scored = new (double Score, double Error)[candidates];
                    for (int j = 0; j < candidates; j++)
                    {
                        int cOffset = ((geometry.CuBlocks[b] + j) * geometry.HeadsKv + h / geometry.GroupSize) * d;
                        double dot = 0, magnitude = 0;
                        for (int i = 0; i < d; i++)
                        {
                            dot += q[qOffset + i] * centroids[cOffset + i];
                            magnitude += Math.Abs(q[qOffset + i] * centroids[cOffset + i]);
                        }
                        scored[j] = (dot, gamma * magnitude);
                    }
                    Array.Sort(scored, (x, y) => y.Score.CompareTo(x.Score));
                    var (last, lastError) = scored[slots - 1];
                    var (next, nextError) = scored[slots];
                    if (last - next <= lastError + nextError)
                        return true;
                }
            }
        }
        return false;
    }
}
