using FlashMoBA.Cli.Tensors;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Verify;

/// <summary>
/// The router (DESIGN.md §4.1) end to end through <see cref="Router"/>: block centroids against the
/// reference's means; each (row, head)'s selected block set against the reference's (equal, or differing
/// only in blocks whose reference score is within rounding of the selection boundary); the key-block
/// segment lists against a host regrouping of the kernel's own selection (exact).
/// </summary>
internal sealed class RoutingFamily : IVerifyFamily
{
    /// <summary>A centroid is an fp32 mean of at most B stored keys, rounded once: the fp32 sum of ≤ 128
    /// terms of |k| ≲ 4 errs by ≲ 128·2^−24·4 ≈ 3e−5 before division, far below the storage rounding.</summary>
    private const double CentroidFp32Floor = 1e-4;

    /// <summary>The kernel scores q against centroids rounded to the storage type (unit roundoff u), the
    /// reference against exact means: a score may move by u·Σ|q_i c_i| (plus fp32 noise). Blocks whose
    /// scores lie within twice that of the boundary may legitimately swap.</summary>
    private const double ScoreRoundings = 2;

    /// <inheritdoc/>
    public string Name => "router";

    /// <inheritdoc/>
    public int Order => 20;

    /// <inheritdoc/>
    public IEnumerable<VerifyCase> Cases(VerifySizes sizes) => VerifyCases.Standard(sizes);

    /// <inheritdoc/>
    public IEnumerable<VerifyCheck> Run(VerifyContext context, VerifyCase testCase) =>
        testCase.ElementType == ElementType.Float16
            ? Run<ILGPU.Half>(context.Accelerator, testCase)
            : Run<BFloat16>(context.Accelerator, testCase);

    private static List<VerifyCheck> Run<T>(Accelerator accelerator, VerifyCase testCase) where T : unmanaged
    {
        var shape = testCase.ReferenceShape;
        var geometry = RoutingGeometry.Create(shape.CuSeqlensQ, shape.CuSeqlensK, testCase.Heads, testCase.HeadsKv,
            testCase.HeadDim, testCase.BlockSize, testCase.TopK, testCase.Causal, testCase.ElementType);
        var random = new Random(testCase.Seed);
        var q = SampledTensor.Normal(random, shape.TotalQ * shape.Heads * shape.HeadDim, testCase.ElementType);
        var k = SampledTensor.Normal(random, shape.TotalK * shape.HeadsKv * shape.HeadDim, testCase.ElementType);

        var stream = accelerator.DefaultStream;
        var router = new Router(accelerator);
        using var plan = RoutingPlan.Allocate(accelerator, geometry);
        using var queries = q.Upload<T>(accelerator);
        using var keys = k.Upload<T>(accelerator);
        Fill(stream, plan.Centroids, testCase.ElementType == ElementType.Float16 ? (ushort)0x7E00 : (ushort)0x7FC0); // NaN
        Fill(stream, plan.TopkIndex, int.MinValue);
        Fill(stream, plan.SegmentRows, int.MinValue);
        router.Build(stream, plan, queries.View.AsContiguous(), keys.View.AsContiguous());
        var snapshot = plan.CopyToHost(stream);

        var expected = HostRegrouping(geometry, snapshot.TopkIndex);
        return
        [
            VerifyCheck.Compare("centroids", snapshot.CentroidsAsFloat(),
                BlockRouting.Centroids(shape, k.Values, testCase.BlockSize),
                VerifyTolerances.StoredOnce(testCase.ElementType, CentroidFp32Floor)),
            CompareSelections(testCase, q.Values, k.Values, snapshot.TopkIndex),
            VerifyCheck.CompareExact("seg counts", snapshot.SegmentCounts, expected.Counts),
            VerifyCheck.CompareExact("seg offsets", snapshot.SegmentOffsets, expected.Offsets),
            VerifyCheck.CompareExact("seg rows", snapshot.SegmentRows, expected.Rows),
        ];
    }

    /// <summary>
    /// Per (row, head): the causal structure must hold exactly (slot 0 = own block, all −1 when p &lt; 0) and
    /// the selected set must equal the reference's, except that blocks scoring within rounding of the
    /// boundary score (the weakest block the reference keeps) may be exchanged.
    /// </summary>
    private static VerifyCheck CompareSelections(VerifyCase testCase, double[] q, double[] k, int[] actual)
    {
        var shape = testCase.ReferenceShape;
        int topK = testCase.TopK, blockSize = testCase.BlockSize, heads = shape.Heads, d = shape.HeadDim;
        int[] reference = BlockRouting.SelectBlocks(shape, q, k, blockSize, topK, testCase.Causal);
        double[] scores = BlockRouting.GateScores(shape, q, k, blockSize);
        double[] centroids = BlockRouting.Centroids(shape, k, blockSize);
        int[] cuBlocks = BlockRouting.CuBlocks(shape.CuSeqlensK, blockSize);
        int maxBlocks = scores.Length / Math.Max(1, shape.TotalQ * heads);
        double u = VerifyTolerances.UnitRoundoff(testCase.ElementType);
        long wrong = 0, nearTies = 0, rows = 0;
        string detail = "all sets equal";
        for (int b = 0; b < shape.Batch; b++)
        {
            int nq = shape.CuSeqlensQ[b + 1] - shape.CuSeqlensQ[b], nk = shape.CuSeqlensK[b + 1] - shape.CuSeqlensK[b];
            for (int t = 0; t < nq; t++)
            {
                int row = shape.CuSeqlensQ[b] + t, position = t + nk - nq;
                for (int h = 0; h < heads; h++)
                {
                    rows++;
                    int slots = (row * heads + h) * topK;
                    var got = actual.AsSpan(slots, topK);
                    var want = reference.AsSpan(slots, topK);
                    var gotSet = got.ToArray().Where(x => x >= 0).ToHashSet();
                    var wantSet = want.ToArray().Where(x => x >= 0).ToHashSet();
                    bool structureOk = !testCase.Causal || (position < 0 ? gotSet.Count == 0 && got.ToArray().All(x => x == -1)
                        : got[0] == position / blockSize);
                    bool paddingOk = got.ToArray().SkipWhile(x => x >= 0).All(x => x == -1) && gotSet.Count == got.ToArray().Count(x => x >= 0);
                    if (structureOk && paddingOk && gotSet.SetEquals(wantSet)) continue;

                    bool explained = structureOk && paddingOk && gotSet.Count == wantSet.Count;
                    if (explained)
                    {
                        double[] scoreRow = scores.AsSpan((row * heads + h) * maxBlocks, maxBlocks).ToArray();
                        double boundary = wantSet.Where(j => !testCase.Causal || j != position / blockSize).Select(j => scoreRow[j]).DefaultIfEmpty(double.NaN).Min();
                        int kvHead = h / (heads / shape.HeadsKv);
                        foreach (int j in gotSet.Except(wantSet).Concat(wantSet.Except(gotSet)))
                        {
                            double magnitude = 0;
                            int c = ((cuBlocks[b] + j) * shape.HeadsKv + kvHead) * d;
                            for (int i = 0; i < d; i++) magnitude += Math.Abs(q[(row * heads + h) * d + i] * centroids[c + i]);
                            if (!(Math.Abs(scoreRow[j] - boundary) <= ScoreRoundings * 2 * u * magnitude + 1e-6)) explained = false;
                        }
                    }
                    if (explained)
                    {
                        nearTies++;
                        continue;
                    }
                    if (wrong++ == 0)
                        detail = $"first wrong selection at row {row} head {h}: [{string.Join(',', got.ToArray())}] vs reference [{string.Join(',', want.ToArray())}]";
                }
            }
        }
        if (wrong == 0 && nearTies > 0) detail = $"{nearTies} rows differ only by near-tied blocks";
        return new VerifyCheck("topk sets", wrong, nearTies, "sets; near ties ok", wrong, rows, detail);
    }

    /// <summary>Poisons a buffer so that elements a kernel fails to write are caught.</summary>
    private static void Fill<TValue>(AcceleratorStream stream, MemoryBuffer1D<TValue, Stride1D.Dense> buffer, TValue value)
        where TValue : unmanaged
    {
        var values = new TValue[buffer.Length];
        Array.Fill(values, value);
        buffer.View.CopyFromCPU(stream, values);
    }

    /// <summary>The reindex computed plainly: segment s = (global block g) × H + h lists, ascending, the
    /// sequence-local rows whose selection for head h contains g's local index.</summary>
    private static (int[] Counts, int[] Offsets, int[] Rows) HostRegrouping(RoutingGeometry geometry, int[] selection)
    {
        var rows = new List<int>[geometry.Segments];
        for (int s = 0; s < rows.Length; s++) rows[s] = [];
        for (int b = 0; b < geometry.Batch; b++)
        {
            for (int row = geometry.CuSeqlensQ[b]; row < geometry.CuSeqlensQ[b + 1]; row++)
            {
                for (int h = 0; h < geometry.Heads; h++)
                {
                    var chosen = new HashSet<int>();
                    for (int slot = 0; slot < geometry.TopK; slot++)
                    {
                        int block = selection[(row * geometry.Heads + h) * geometry.TopK + slot];
                        if (block >= 0 && block < geometry.CuBlocks[b + 1] - geometry.CuBlocks[b] && chosen.Add(block))
                            rows[(geometry.CuBlocks[b] + block) * geometry.Heads + h].Add(row - geometry.CuSeqlensQ[b]);
                    }
                }
            }
        }
        var counts = rows.Select(r => r.Count).ToArray();
        var offsets = new int[counts.Length + 1];
        for (int s = 0; s < counts.Length; s++) offsets[s + 1] = offsets[s] + counts[s];
        return (counts, offsets, rows.SelectMany(r => r).ToArray());
    }
}
