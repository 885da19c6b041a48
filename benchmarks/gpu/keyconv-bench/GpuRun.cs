using System.Globalization;
using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.KeyConvBench;

/// <summary>
/// On a CUDA device: kernel attributes (registers, local memory), verification against the float64
/// reference, then the timing of DESIGN's key-conv benchmark (b = 2, Hk = 16, d = 128, N = 64K) with
/// run-length variants, CUDA-event medians and achieved bandwidth. Exit code 1 when a check fails.
/// </summary>
internal static class GpuRun
{
    /// <summary>The GPU sizes, or (<c>--cpu</c>) tiny ones that smoke-test this harness on the CPU accelerator.</summary>
    /// <remarks>Backward plans: null run length or partials is the library default.</remarks>
    private sealed record Sizes(int Seqlen, int HeadsKv, int HeadDim, int Warmup, int Repeats, int LaunchesPerSample,
        int[] ForwardRuns, BackwardPlan[] BackwardPlans);

    /// <summary>
    /// A backward launch plan: run length, dW partial rows (CTA rows) and L2 prefetch distance, null for
    /// the library default; <see cref="RoundedUpPartials"/> is the earlier rule (SMs × CTAs per SM over
    /// the tiles, rounded up).
    /// </summary>
    private sealed record BackwardPlan(int? Run, int? Partials, int? L2Rows = null, bool RoundedUpPartials = false);

    private static readonly BackwardPlan[] DefaultOnly = [new(null, null)];

    private static readonly Sizes Gpu = new(65536, 16, 128, 5, 30, 10, [64, 128],
    [
        new(null, null), new(null, null, L2Rows: 0), new(null, null, L2Rows: 16), new(null, null, L2Rows: 32),
        new(512, null), new(null, null, RoundedUpPartials: true), new(512, null, L2Rows: 0, RoundedUpPartials: true),
    ]);

    private static readonly Sizes Cpu = new(1200, 2, 64, 1, 2, 1, [32],
        [new(null, null), new(64, null, L2Rows: 0, RoundedUpPartials: true)]);

    /// <summary>Device-to-device copy bandwidth the benchmark compares with (DESIGN.md §7).</summary>
    private const double CopyBandwidthGBs = 4300;

    public static int Run(string[] args)
    {
        bool cpu = args.Contains("--cpu");
        var sizes = cpu ? Cpu : Gpu;
        using var host = AcceleratorHost.Create(cpu ? AcceleratorChoice.Cpu : AcceleratorChoice.Cuda, profiling: true);
        var accelerator = host.Accelerator;
        Console.WriteLine($"device: {accelerator.Name}, {accelerator.NumMultiprocessors} SMs");
        bool ok = KernelAttributes(host.Kernels);
        ok &= GpuVerify.Run(accelerator, small: cpu);
        ok &= Bench(accelerator, sizes);
        Console.WriteLine(ok ? "ALL CHECKS PASSED" : "SOME CHECKS FAILED");
        return ok ? 0 : 1;
    }

    private static bool KernelAttributes(KernelCache cache)
    {
        Console.WriteLine();
        Console.WriteLine("| kernel | registers | local bytes |");
        Console.WriteLine("|---|---|---|");
        bool ok = true;
        foreach (var elementType in new[] { ElementType.Float16, ElementType.BFloat16 })
        {
            foreach (int width in new[] { 3, 5 })
            {
                ok &= Row(KeyConvSpecialization.Forward(cache, elementType, width).Name,
                    KeyConvSpecialization.Forward(cache, elementType, width).RegistersPerThread,
                    KeyConvSpecialization.Forward(cache, elementType, width).LocalBytesPerThread);
                var backward = KeyConvSpecialization.Backward(cache, elementType, width);
                ok &= Row(backward.Name, backward.RegistersPerThread, backward.LocalBytesPerThread);
            }
        }
        var reduce = KeyConvSpecialization.ReducePartials(cache);
        ok &= Row(reduce.Name, reduce.RegistersPerThread, reduce.LocalBytesPerThread);
        return ok;

        static bool Row(string name, int registers, int localBytes)
        {
            Console.WriteLine($"| {name} | {registers} | {localBytes}{(localBytes == 0 ? "" : " FAIL")} |");
            return localBytes == 0;
        }
    }

    private static bool Bench(Accelerator accelerator, Sizes sizes)
    {
        const int batch = 2;
        int seqlen = sizes.Seqlen, headsKv = sizes.HeadsKv, headDim = sizes.HeadDim;
        int[] cuSeqlensK = [0, seqlen, 2 * seqlen];
        int[] forwardRuns = sizes.ForwardRuns;
        var backwardPlans = sizes.BackwardPlans;
        timing = sizes;
        bool ok = true;
        Console.WriteLine();
        Console.WriteLine($"bench: b={batch} N={seqlen} Hk={headsKv} d={headDim}; {sizes.Warmup} warm-up; median of {sizes.Repeats} samples of {sizes.LaunchesPerSample} launches (CUDA events)");
        Console.WriteLine($"copy: {CopyBandwidth(accelerator, (long)batch * seqlen * headsKv * headDim):F0} GB/s device-to-device (read + write)");
        Console.WriteLine();
        Console.WriteLine("| dtype | W | d | pass | run | partials | L2 rows | median ms | min ms | max ms | GB/s | % of 4.3 TB/s |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        ok &= BenchOne<Half>(accelerator, cuSeqlensK, headsKv, headDim, 3, forwardRuns, backwardPlans);
        ok &= BenchOne<Half>(accelerator, cuSeqlensK, headsKv, headDim, 5, forwardRuns, backwardPlans);
        ok &= BenchOne<BFloat16>(accelerator, cuSeqlensK, headsKv, headDim, 5, [KeyConvForward.DefaultRunLength],
            DefaultOnly);
        ok &= BenchOne<Half>(accelerator, cuSeqlensK, headsKv, 64, 5, [KeyConvForward.DefaultRunLength], DefaultOnly);
        return ok;
    }

    private static bool BenchOne<T>(Accelerator accelerator, int[] cuSeqlensK, int headsKv, int headDim, int width,
        int[] forwardRuns, BackwardPlan[] backwardPlans)
        where T : unmanaged
    {
        using var problem = new KeyConvProblem<T>(accelerator, cuSeqlensK, headsKv, headDim, width, seed: 1000 + width);
        string what = $"{(problem.ElementType == ElementType.Float16 ? "fp16" : "bf16")} | {width} | {headDim}";
        foreach (int run in forwardRuns)
            Report(what, "fwd", $"{run}", "- | -", Time(accelerator, () => problem.Forward(run)), problem.ForwardBytes);
        bool ok = GpuVerify.CheckBenchSlices(problem, forward: true);
        foreach (var plan in backwardPlans)
        {
            int partials = plan.Partials
                ?? (plan.RoundedUpPartials ? problem.RoundedUpPartials : problem.Partials);
            string runText = plan.Run?.ToString(CultureInfo.InvariantCulture)
                ?? $"{KeyConvBackward.DefaultRunLength(problem.Shape.TotalK, partials)} (default)";
            string partialsText = $"{partials}{(plan.Partials is null && !plan.RoundedUpPartials ? " (default)" : "")}";
            int l2Rows = plan.L2Rows ?? KeyConvBackward.DefaultL2PrefetchRows;
            string l2Text = $"{l2Rows}{(plan.L2Rows is null ? " (default)" : "")}";
            problem.Poison();
            Report(what, "bwd", runText, $"{partialsText} | {l2Text}",
                Time(accelerator, () => problem.Backward(plan.Run, partials, l2Rows)), problem.BackwardBytes(partials));
            // Every plan must produce the same dK; the dW sums differ only in their order.
            ok &= GpuVerify.CheckBenchSlices(problem, forward: false);
        }
        return ok;
    }

    private static void Report(string what, string pass, string run, string partials,
        (double Median, double Min, double Max) ms, double bytes)
    {
        double gbs = bytes / (ms.Median * 1e-3) / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {pass} | {run} | {partials} | {ms.Median:F4} | {ms.Min:F4} | {ms.Max:F4} | {gbs:F0} | {100 * gbs / CopyBandwidthGBs:F1} |"));
    }

    /// <summary>
    /// Median, min and max milliseconds per launch: each sample is <see cref="LaunchesPerSample"/>
    /// back-to-back launches between two CUDA events, so host launch overhead overlaps GPU work.
    /// </summary>
    public static (double Median, double Min, double Max) Time(Accelerator accelerator, Action launch)
    {
        for (int i = 0; i < timing.Warmup; i++) launch();
        accelerator.Synchronize();
        var samples = new double[timing.Repeats];
        for (int r = 0; r < samples.Length; r++)
        {
            using var start = accelerator.AddProfilingMarker();
            for (int i = 0; i < timing.LaunchesPerSample; i++) launch();
            using var end = accelerator.AddProfilingMarker();
            end.Synchronize();
            samples[r] = end.MeasureFrom(start).TotalMilliseconds / timing.LaunchesPerSample;
        }
        Array.Sort(samples);
        return (samples[samples.Length / 2], samples[0], samples[^1]);
    }

    private static Sizes timing = Gpu;

    private static double CopyBandwidth(Accelerator accelerator, long elements)
    {
        using var source = accelerator.Allocate1D<Half>(elements);
        using var target = accelerator.Allocate1D<Half>(elements);
        source.MemSetToZero();
        var (median, _, _) = Time(accelerator, () => source.View.CopyTo(accelerator.DefaultStream, target.View));
        return 2.0 * elements * sizeof(ushort) / (median * 1e-3) / 1e9;
    }
}
