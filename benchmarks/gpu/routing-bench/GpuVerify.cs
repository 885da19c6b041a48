using System.Diagnostics;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Routing;
using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.RoutingBench;

/// <summary>
/// The router on the GPU against <see cref="BlockRouting"/> at a few thousand tokens. Keys are drawn so
/// every block mean is exact in fp32 and in the storage type (grid values m/4, partial blocks with a
/// grid mean plus ± noise pairs), q is Normal(0, 1) rounded to the storage type: centroids must then be
/// bit-equal to the reference's and every selected set equal, except where the reference's two
/// boundary scores lie within fp32 accumulation error (d·2^-24·Σ|q·c|) of each other.
/// </summary>
internal static class GpuVerify
{
    private sealed record Case(string Name, ElementType Type, bool Causal, int[] LengthsQ, int[] LengthsK, int Heads,
                               int HeadsKv, int HeadDim, int BlockSize, int TopK);

    private static readonly Case[] Cases =
    [
        new("bench shape 4K", ElementType.Float16, true, [4096, 4096], [4096, 4096], 16, 16, 128, 128, 8),
        new("varlen GQA bf16", ElementType.BFloat16, true, [1500, 2600, 700], [1500, 3000, 700], 8, 2, 128, 64, 8),
        new("non-causal MQA", ElementType.Float16, false, [2048, 1000, 3001], [3000, 1000, 2500], 4, 1, 64, 128, 3),
        new("topK 64, B 16", ElementType.BFloat16, true, [6000], [6000], 2, 2, 64, 16, 64),
        new("non-causal topK 2", ElementType.Float16, false, [3000], [3000], 2, 1, 128, 32, 2),
    ];

    private static readonly Case[] CpuSmokeCases =
    [
        new("cpu smoke causal", ElementType.Float16, true, [150, 40], [150, 90], 2, 1, 32, 16, 3),
        new("cpu smoke non-causal", ElementType.BFloat16, false, [70], [200], 2, 2, 16, 32, 2),
    ];

    public static int Run(bool cpu)
    {
        using var host = AcceleratorHost.Create(cpu ? AcceleratorChoice.Cpu : AcceleratorChoice.Cuda);
        Console.WriteLine($"device: {host.Accelerator.Name}");
        Console.WriteLine("| case | rows×heads | centroids bit-equal | sets equal | near-tie swaps | wrong | reindex | deterministic | result |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        bool ok = true;
        foreach (var c in cpu ? CpuSmokeCases : Cases)
            ok &= c.Type == ElementType.Float16 ? RunCase<Half>(host.Accelerator, c) : RunCase<BFloat16>(host.Accelerator, c);
        return ok ? 0 : 1;
    }

    private static bool RunCase<T>(Accelerator accelerator, Case c)
        where T : unmanaged
    {
        var watch = Stopwatch.StartNew();
        var geometry = RoutingGeometry.Create(Prefix(c.LengthsQ), Prefix(c.LengthsK), c.Heads, c.HeadsKv, c.HeadDim,
                                              c.BlockSize, c.TopK, c.Causal, c.Type);
        var shape = new AttentionShape(geometry.CuSeqlensQ, geometry.CuSeqlensK, c.Heads, c.HeadsKv, c.HeadDim);
        var random = new Random(c.Name.Length * 7919 + c.TopK);
        var q = RoutingTestData.Normal(random, (long)shape.TotalQ * c.Heads * c.HeadDim, c.Type);
        var k = RoutingTestData.ExactMeanKeys(random, shape, c.BlockSize);

        var stream = accelerator.DefaultStream;
        var router = new Router(accelerator);
        using var qBuffer = RoutingTestData.Upload<T>(accelerator, q);
        using var kBuffer = RoutingTestData.Upload<T>(accelerator, k);
        using var plan = RoutingPlan.Allocate(accelerator, geometry);
        RoutingTestData.Poison(stream, plan.TopkIndex, -2);
        RoutingTestData.Poison(stream, plan.SegmentRows, int.MinValue);
        router.Build(stream, plan, qBuffer.View.AsContiguous(), kBuffer.View.AsContiguous());
        var first = plan.CopyToHost(stream);
        RoutingTestData.Poison(stream, plan.SegmentRows, int.MinValue);
        router.Build(stream, plan, qBuffer.View.AsContiguous(), kBuffer.View.AsContiguous());
        var second = plan.CopyToHost(stream);
        bool deterministic = first.TopkIndex.AsSpan().SequenceEqual(second.TopkIndex)
            && first.SegmentRows.AsSpan().SequenceEqual(second.SegmentRows);

        double[] centroids = BlockRouting.Centroids(shape, k, c.BlockSize);
        float[] gpuCentroids = first.CentroidsAsFloat();
        int centroidsEqual = Enumerable.Range(0, centroids.Length).Count(i => centroids[i] == gpuCentroids[i]);

        int[] reference = BlockRouting.SelectBlocks(shape, q, k, c.BlockSize, c.TopK, c.Causal);
        var (equal, nearTies, wrong, firstWrong) = CompareSelections(geometry, q, centroids, reference, first.TopkIndex);
        string? reindex = Checks.ReindexMismatch(geometry, first);

        bool pass = centroidsEqual == centroids.Length && wrong == 0 && reindex is null && deterministic;
        Console.WriteLine($"| {c.Name} ({c.Type}, {(c.Causal ? "causal" : "non-causal")}, H={c.Heads}/{c.HeadsKv}, d={c.HeadDim}, " +
                          $"B={c.BlockSize}, topK={c.TopK}, Nq={string.Join('/', c.LengthsQ)}, Nk={string.Join('/', c.LengthsK)}) | " +
                          $"{geometry.TotalQ * c.Heads} | {centroidsEqual}/{centroids.Length} | {equal} | {nearTies} | {wrong} | " +
                          $"{reindex ?? "exact"} | {(deterministic ? "yes" : "no")} | {(pass ? "PASS" : "FAIL " + firstWrong)} ({watch.Elapsed.TotalSeconds:F1} s) |");
        return pass;
    }

    /// <summary>Structure exact (own block in slot 0, −1 for p &lt; 0, −1 padding); sets equal to the reference's
    /// or differing only within fp32 accumulation error of the boundary.</summary>
    private static (int Equal, int NearTies, int Wrong, string FirstWrong) CompareSelections(
        RoutingGeometry g, double[] q, double[] centroids, int[] reference, int[] actual)
    {
        int equal = 0, nearTies = 0, wrong = 0;
        string firstWrong = "";
        int d = g.HeadDim, topK = g.TopK;
        for (int b = 0; b < g.Batch; b++)
        {
            int nq = g.CuSeqlensQ[b + 1] - g.CuSeqlensQ[b], nk = g.CuSeqlensK[b + 1] - g.CuSeqlensK[b];
            int blocks = g.CuBlocks[b + 1] - g.CuBlocks[b];
            for (int t = 0; t < nq; t++)
            {
                int row = g.CuSeqlensQ[b] + t, position = t + nk - nq;
                for (int h = 0; h < g.Heads; h++)
                {
                    var got = actual.AsSpan((row * g.Heads + h) * topK, topK).ToArray();
                    var want = reference.AsSpan((row * g.Heads + h) * topK, topK).ToArray();
                    if (want.Order().SequenceEqual(got.Order()) && (!g.Causal || got[0] == want[0]))
                    {
                        equal++;
                        continue;
                    }
                    int verdict = -1;
                    if (!(g.Causal && position < 0))
                    {
                        int count = g.Causal ? position / g.BlockSize : blocks;
                        var candidates = new (double Score, double Error, int Block)[count];
                        for (int j = 0; j < count; j++)
                        {
                            long qo = ((long)row * g.Heads + h) * d;
                            long co = ((long)(g.CuBlocks[b] + j) * g.HeadsKv + h / g.GroupSize) * d;
                            double dot = 0, magnitude = 0;
                            for (int e = 0; e < d; e++)
                            {
                                dot += q[qo + e] * centroids[co + e];
                                magnitude += Math.Abs(q[qo + e] * centroids[co + e]);
                            }
                            candidates[j] = (dot, d * Math.Pow(2, -24) * magnitude, j);
                        }
                        verdict = g.Causal
                            ? Checks.CompareCausalRow(got, position / g.BlockSize, candidates, topK)
                            : Checks.CompareSet(got, candidates, topK);
                    }
                    if (verdict == 1)
                    {
                        nearTies++;
                    }
                    else
                    {
                        if (wrong++ == 0)
                            firstWrong = $"row {row} head {h}: [{string.Join(',', got)}] vs [{string.Join(',', want)}]";
                    }
                }
            }
        }
        return (equal, nearTies, wrong, firstWrong);
    }

    private static int[] Prefix(int[] lengths)
    {
        var cu = new int[lengths.Length + 1];
        for (int i = 0; i < lengths.Length; i++)
            cu[i + 1] = cu[i] + lengths[i];
        return cu;
    }
}
