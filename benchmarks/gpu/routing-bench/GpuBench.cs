using System.Diagnostics;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.RoutingBench;

/// <summary>
/// Times the router at the DESIGN.md §7 shape (b=2, H=16, d=128, fp16, causal, B=128, topK=8): CUDA-event
/// markers between the three stages of each iteration, median of the repeats after a warm-up, device
/// memory in use before and after everything is allocated. Up to 128K tokens the whole reindex is
/// checked against a host regrouping of the GPU's selection and 512 sampled (row, head) selections
/// against a float64 top-k over the GPU's own centroids.
/// </summary>
internal static class GpuBench
{
    private const int Batch = 2, TopK = 8;
    private const int FullCheckMaxSeqlen = 128 * 1024;

    /// <summary>The GPU shape of DESIGN.md §7, or a tiny one for a CPU smoke run of the harness.</summary>
    /// <param name="VariantSeqlen">Sequence length at which the alternative designs are timed too.</param>
    private sealed record Setup(int Heads, int HeadDim, int BlockSize, int Warmup, int Repeats, int SampledRows,
                                int VariantSeqlen);

    private static readonly Setup Gpu = new(16, 128, 128, 3, 20, 512, 64 * 1024);
    private static readonly Setup CpuSmoke = new(2, 32, 16, 1, 2, 32, 256);

    public static int Run(string[] args, bool cpu)
    {
        int[] seqlens = args.Length > 0
            ? args.Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
            : [8192, 16384, 32768, 65536, 131072, 262144, 524288];
        using var host = AcceleratorHost.Create(cpu ? AcceleratorChoice.Cpu : AcceleratorChoice.Cuda, profiling: true);
        var accelerator = host.Accelerator;
        var setup = cpu ? CpuSmoke : Gpu;
        Console.WriteLine($"device: {accelerator.Name}; b={Batch} H=Hk={setup.Heads} d={setup.HeadDim} fp16 causal B={setup.BlockSize} topK={TopK}");
        Console.WriteLine("| N | centroids ms | flash top-k ms | reindex ms (count / scan+table / scatter) | router total ms | total min–max ms | top-k TFLOP/s | plan MiB | peak MiB (q+k+plan) | check |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        bool ok = true;
        foreach (int n in seqlens)
            ok &= RunOne(host, setup, n);
        PrintKernelResources(host.Kernels);
        return ok ? 0 : 1;
    }

    private static bool RunOne(AcceleratorHost host, Setup setup, int seqlen)
    {
        var accelerator = host.Accelerator;
        var stream = accelerator.DefaultStream;
        int repeats = seqlen >= 262144 ? setup.Repeats / 2 : setup.Repeats;
        accelerator.Synchronize();
        long before = Measure.DeviceBytesInUse(accelerator);
        int[] cu = [0, seqlen, 2 * seqlen];
        var geometry = RoutingGeometry.Create(cu, cu, setup.Heads, setup.Heads, setup.HeadDim, setup.BlockSize, TopK, true,
                                              ElementType.Float16);
        using var q = accelerator.Allocate1D<Half>((long)geometry.TotalQ * setup.Heads * setup.HeadDim);
        using var k = accelerator.Allocate1D<Half>((long)geometry.TotalK * setup.Heads * setup.HeadDim);
        var qView = q.View.AsContiguous();
        var kView = k.View.AsContiguous();
        DeviceRandom.Fill<Fp16Ops>(accelerator, qView.Cast<uint>(), 1u);
        DeviceRandom.Fill<Fp16Ops>(accelerator, kView.Cast<uint>(), 2u);
        var router = new Router(accelerator);
        using var plan = RoutingPlan.Allocate(accelerator, geometry);

        for (int i = 0; i < setup.Warmup; i++)
            router.Build(stream, plan, qView, kView);
        accelerator.Synchronize();

        var stages = new double[7][];
        for (int s = 0; s < stages.Length; s++)
            stages[s] = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            using var m0 = accelerator.AddProfilingMarker();
            router.BuildCentroids(stream, plan, kView.Cast<uint>());
            using var m1 = accelerator.AddProfilingMarker();
            router.BuildTopK(stream, plan, qView.Cast<uint>());
            using var m2 = accelerator.AddProfilingMarker();
            KeyBlockIndex.Count(router.Kernels, stream, plan);
            using var m3 = accelerator.AddProfilingMarker();
            KeyBlockIndex.Scan(router.Kernels, stream, plan);
            using var m4 = accelerator.AddProfilingMarker();
            KeyBlockIndex.Scatter(router.Kernels, stream, plan, globalScatter: false);
            using var m5 = accelerator.AddProfilingMarker();
            m5.Synchronize();
            stages[0][r] = m1.MeasureFrom(m0).TotalMilliseconds;
            stages[1][r] = m2.MeasureFrom(m1).TotalMilliseconds;
            stages[2][r] = m5.MeasureFrom(m2).TotalMilliseconds;
            stages[3][r] = m5.MeasureFrom(m0).TotalMilliseconds;
            stages[4][r] = m3.MeasureFrom(m2).TotalMilliseconds;
            stages[5][r] = m4.MeasureFrom(m3).TotalMilliseconds;
            stages[6][r] = m5.MeasureFrom(m4).TotalMilliseconds;
        }
        long peak = Measure.DeviceBytesInUse(accelerator) - before;
        string variants = seqlen == setup.VariantSeqlen ? Variants(router, plan, stream, qView, repeats, seqlen) : "";

        double topkFlops = GatingFlops(geometry, seqlen);
        double topkMs = Measure.Median(stages[1]);
        string check = seqlen <= FullCheckMaxSeqlen ? CheckAtScale(plan, stream, qView, setup.SampledRows) : CheckTotals(plan, stream);
        Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"| {(seqlen >= 1024 ? $"{seqlen / 1024}K" : seqlen.ToString(System.Globalization.CultureInfo.InvariantCulture))} | {Measure.Median(stages[0]):F3} | {topkMs:F3} | " +
            $"{Measure.Median(stages[2]):F3} ({Measure.Median(stages[4]):F3} / {Measure.Median(stages[5]):F3} / {Measure.Median(stages[6]):F3}) | " +
            $"{Measure.Median(stages[3]):F3} | {stages[3].Min():F3}–{stages[3].Max():F3} | {topkFlops / (topkMs * 1e9):F0} | " +
            $"{Measure.MiB(plan.DeviceBytes):F0} | {Measure.MiB(peak):F0} | {check} |"));
        if (variants.Length > 0)
            Console.WriteLine(variants);
        return !check.StartsWith("FAIL", StringComparison.Ordinal);
    }

    /// <summary>Times the alternatives kept for comparison: shared-memory top-k lists (the first design)
    /// and the global-memory scatter. Their output stays in the plan, so the check that follows covers them.</summary>
    private static string Variants(Router router, RoutingPlan plan, AcceleratorStream stream, ArrayView<Half> q, int repeats,
                                   int seqlen)
    {
        var accelerator = router.Accelerator;
        var sharedLists = new double[repeats];
        var globalScatter = new double[repeats];
        router.BuildTopK(stream, plan, q.Cast<uint>(), sharedLists: true);
        KeyBlockIndex.Launch(router.Kernels, stream, plan, globalScatter: true);
        for (int r = 0; r < repeats; r++)
        {
            using var m0 = accelerator.AddProfilingMarker();
            router.BuildTopK(stream, plan, q.Cast<uint>(), sharedLists: true);
            using var m1 = accelerator.AddProfilingMarker();
            KeyBlockIndex.Count(router.Kernels, stream, plan);
            KeyBlockIndex.Scan(router.Kernels, stream, plan);
            using var m2 = accelerator.AddProfilingMarker();
            KeyBlockIndex.Scatter(router.Kernels, stream, plan, globalScatter: true);
            using var m3 = accelerator.AddProfilingMarker();
            m3.Synchronize();
            sharedLists[r] = m1.MeasureFrom(m0).TotalMilliseconds;
            globalScatter[r] = m3.MeasureFrom(m2).TotalMilliseconds;
        }
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"|  ↳ alternatives at N={seqlen} | | top-k with shared-memory lists: {Measure.Median(sharedLists):F3} | scatter in global memory: {Measure.Median(globalScatter):F3} | | | | | | |");
    }

    /// <summary>Effective gating FLOPs: each causal row scores its p / B earlier blocks, 2·d each, per head.</summary>
    private static double GatingFlops(RoutingGeometry g, int seqlen)
    {
        double candidates = 0;
        for (int t = 0; t < seqlen; t++)
            candidates += t / g.BlockSize;
        return Batch * g.Heads * candidates * 2.0 * g.HeadDim;
    }

    /// <summary>At large N: the number of selections equals Σ min(topK, own block + 1) over rows and heads.</summary>
    private static string CheckTotals(RoutingPlan plan, AcceleratorStream stream)
    {
        var g = plan.Geometry;
        var offsets = new int[1];
        plan.SegmentOffsets.View.SubView(g.Segments, 1).CopyToCPU(stream, offsets);
        stream.Synchronize();
        long expected = ExpectedSelections(g);
        return offsets[0] == expected ? $"selections {offsets[0]} = expected" : $"FAIL selections {offsets[0]} ≠ {expected}";
    }

    private static long ExpectedSelections(RoutingGeometry g)
    {
        long expected = 0;
        for (int b = 0; b < g.Batch; b++)
        {
            int n = g.CuSeqlensQ[b + 1] - g.CuSeqlensQ[b];
            for (int t = 0; t < n; t++)
                expected += Math.Min(g.TopK, t / g.BlockSize + 1);
        }
        return expected * g.Heads;
    }

    /// <summary>Whole reindex vs a host regrouping of the GPU's top-k; sampled top-k vs float64 over the GPU's centroids.</summary>
    private static string CheckAtScale(RoutingPlan plan, AcceleratorStream stream, ArrayView<Half> q, int sampledRows)
    {
        var watch = Stopwatch.StartNew();
        var g = plan.Geometry;
        var snapshot = plan.CopyToHost(stream);
        if (snapshot.SegmentOffsets[^1] != ExpectedSelections(g))
            return $"FAIL selections {snapshot.SegmentOffsets[^1]} ≠ {ExpectedSelections(g)}";
        string? reindex = Checks.ReindexMismatch(g, snapshot);
        if (reindex is not null)
            return "FAIL reindex: " + reindex;

        var centroids = snapshot.CentroidsAsFloat();
        var random = new Random(5);
        int nearTies = 0;
        int heads = g.Heads, d = g.HeadDim;
        var qRow = new Half[d];
        for (int i = 0; i < sampledRows; i++)
        {
            int row = random.Next(g.TotalQ), head = random.Next(heads);
            q.SubView(((long)row * heads + head) * d, d).CopyToCPU(stream, qRow);
            stream.Synchronize();
            int b = row < g.CuSeqlensQ[1] ? 0 : 1;
            int t = row - g.CuSeqlensQ[b];
            int own = t / g.BlockSize;
            var scores = new (double Score, double Error, int Block)[own];
            for (int j = 0; j < own; j++)
            {
                long c = ((long)(g.CuBlocks[b] + j) * g.HeadsKv + head / g.GroupSize) * d;
                double dot = 0, magnitude = 0;
                for (int e = 0; e < d; e++)
                {
                    double product = (double)(float)qRow[e] * centroids[c + e];
                    dot += product;
                    magnitude += Math.Abs(product);
                }
                scores[j] = (dot, d * Math.Pow(2, -24) * magnitude, j);
            }
            var got = snapshot.TopkIndex.AsSpan((row * heads + head) * TopK, TopK).ToArray();
            var verdict = Checks.CompareCausalRow(got, own, scores, TopK);
            if (verdict < 0)
                return $"FAIL top-k at row {row} head {head}: [{string.Join(',', got)}]";
            nearTies += verdict;
        }
        return $"reindex exact, {sampledRows} sampled rows ok ({nearTies} near-tie swaps), {watch.Elapsed.TotalSeconds:F0} s";
    }

    private static void PrintKernelResources(KernelCache cache)
    {
        Console.WriteLine();
        Console.WriteLine("| kernel | registers/thread | local bytes/thread |");
        Console.WriteLine("|---|---|---|");
        Print(cache.Get<FlashTopK.Args>(typeof(FlashTopK), nameof(FlashTopK.Kernel), typeof(Fp16Ops), typeof(RegisterTopK8)));
        Print(cache.Get<FlashTopK.Args>(typeof(FlashTopK), nameof(FlashTopK.Kernel), typeof(Fp16Ops), typeof(SharedTopK)));
        Print(cache.Get<BlockCentroids.Args>(typeof(BlockCentroids), nameof(BlockCentroids.Kernel), typeof(Fp16Ops)));
        Print(cache.Get<KeyBlockIndex.Args>(typeof(KeyBlockIndex), nameof(KeyBlockIndex.CountKernel)));
        Print(cache.Get<KeyBlockIndex.TableArgs>(typeof(KeyBlockIndex), nameof(KeyBlockIndex.SegmentTableKernel)));
        Print(cache.Get<KeyBlockIndex.Args>(typeof(KeyBlockIndex), nameof(KeyBlockIndex.ScatterSharedKernel)));
        Print(cache.Get<KeyBlockIndex.Args>(typeof(KeyBlockIndex), nameof(KeyBlockIndex.ScatterKernel)));
        Print(cache.Get<DeviceRandom.Args>(typeof(DeviceRandom), nameof(DeviceRandom.Kernel), typeof(Fp16Ops)));

        static void Print<TArgs>(CachedKernel<TArgs> kernel) where TArgs : struct =>
            Console.WriteLine($"| {kernel.Name} | {kernel.RegistersPerThread} | {kernel.LocalBytesPerThread} |");
    }
}
