using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Primitives;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.PrimitivesCheck;

/// <summary>
/// GPU self-check of the primitives: runs the CPU test suite's checks on the CUDA path, reads each
/// kernel's registers and local memory from the driver, and times the primitives' throughput with
/// CUDA events. Usage: <c>FlashMoBA.PrimitivesCheck [outputFolder]</c> (exit code 1 on any failure), or
/// <c>FlashMoBA.PrimitivesCheck --ptx folder</c> to write every kernel's SM 9.0 PTX without a GPU.
/// </summary>
public static class Program
{
    private const int WarmUps = 2, Repeats = 10;

    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "--ptx") return DumpPtx(args[1]);
        string output = args.Length > 0 ? args[0] : ".";
        Directory.CreateDirectory(output);
        using var host = AcceleratorHost.Create(AcceleratorChoice.Cuda, profiling: true);
        var accelerator = host.Accelerator;
        var report = new Report(accelerator.Name);
        Console.WriteLine($"Device: {accelerator.Name}, {accelerator.NumMultiprocessors} SMs");

        Check(report, "HalfPack conversions (cvt vs integer path)", () => HalfPackTests.CheckKernel(accelerator));
        foreach (var type in new[] { ElementType.Float16, ElementType.BFloat16 })
        {
            Check(report, $"WarpMma m16n8k16 {type}", () => WarpMmaTests.Check(accelerator, type));
            Check(report, $"OnlineSoftmax 16 rows × 2 tiles {type}", () => OnlineSoftmaxTests.Check(accelerator, type));
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    foreach (bool registers in new[] { false, true })
                    {
                        Check(report, $"Shared GEMM {type} A{(transposeA ? "ᵀ" : "")} B{(transposeB ? "ᵀ" : "")} " +
                            (registers ? "A in registers" : "A from shared"),
                            () => SharedMmaTests.Check(accelerator, type, transposeA, transposeB, registers));
                    }
                }
            }
        }
        Check(report, "LdMatrix operand layouts", () => LdMatrixTests.Check(accelerator));

        Throughput(report, host, ElementType.Float16);
        Throughput(report, host, ElementType.BFloat16);
        Resources(report, host.Kernels);

        File.WriteAllText(Path.Combine(output, "primitives-h200.md"), report.Markdown());
        File.WriteAllText(Path.Combine(output, "primitives-h200.json"), report.Json());
        Console.WriteLine(report.Markdown());
        return report.Failures == 0 ? 0 : 1;
    }

    /// <summary>Writes the PTX of every kernel this check launches, for <c>ptxas -arch=sm_90 -v</c>.</summary>
    private static int DumpPtx(string folder)
    {
        Directory.CreateDirectory(folder);
        using var compiler = new OfflinePtx();
        foreach (var (name, method) in KernelCatalogue())
        {
            File.WriteAllText(Path.Combine(folder, name + ".ptx"), compiler.Compile(method));
            Console.WriteLine($"wrote {name}.ptx");
        }
        return 0;
    }

    /// <summary>The closed kernel methods of the checks and throughput runs, by file name.</summary>
    private static IEnumerable<(string Name, MethodInfo Method)> KernelCatalogue()
    {
        const BindingFlags Static = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;
        foreach (var element in new[] { typeof(Fp16Ops), typeof(Bf16Ops) })
        {
            string e = element.Name;
            yield return ($"mma-{e}", typeof(BenchKernels).GetMethod(nameof(BenchKernels.MmaKernel), Static)!.MakeGenericMethod(element));
            yield return ($"tile-{e}", typeof(BenchKernels).GetMethod(nameof(BenchKernels.TileKernel), Static)!
                .MakeGenericMethod(element, typeof(WithoutSoftmax)));
            yield return ($"tile-softmax-{e}", typeof(BenchKernels).GetMethod(nameof(BenchKernels.TileKernel), Static)!
                .MakeGenericMethod(element, typeof(WithSoftmax)));
            yield return ($"softmax-check-{e}", typeof(OnlineSoftmaxTests).GetMethod(nameof(OnlineSoftmaxTests.SoftmaxKernel), Static)!
                .MakeGenericMethod(element));
            yield return ($"warpmma-check-{e}", typeof(WarpMmaTests).GetMethod(nameof(WarpMmaTests.MmaKernel), Static)!
                .MakeGenericMethod(element));
        }
        yield return ("ldmatrix-check", typeof(LdMatrixTests).GetMethod(nameof(LdMatrixTests.LoadKernel), Static)!);
        yield return ("halfpack-check", typeof(HalfPackTests).GetMethod(nameof(HalfPackTests.ConvertKernel), Static)!);
    }

    private static void Check(Report report, string name, Action check)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            check();
            report.Checks.Add((name, "pass", ""));
            Console.WriteLine($"PASS {name} ({watch.Elapsed.TotalSeconds:F1} s)");
        }
        catch (Exception error)
        {
            string message = error.Message.ReplaceLineEndings(" ");
            report.Checks.Add((name, "FAIL", message));
            report.Failures++;
            Console.WriteLine($"FAIL {name}: {message}");
        }
    }

    private static void Throughput(Report report, AcceleratorHost host, ElementType type)
    {
        var accelerator = host.Accelerator;
        var element = type == ElementType.Float16 ? typeof(Fp16Ops) : typeof(Bf16Ops);
        var random = new Random(7);
        var tiles = HostTensors.RandomBits(random, BenchKernels.SharedChunks * Chunk16.Elements, type, range: 0.5);
        using var tileBuffer = accelerator.Allocate1D(tiles);
        int sms = accelerator.NumMultiprocessors;

        // Raw MMA rate: 8 CTAs of 8 warps per SM, 8 independent MMAs per iteration.
        const int MmaIterations = 4096;
        int mmaGroups = sms * 8;
        using (var sink = accelerator.Allocate1D<float>(mmaGroups * BenchKernels.Threads))
        {
            var kernel = host.Kernels.Get<ThroughputArgs>(typeof(BenchKernels), nameof(BenchKernels.MmaKernel), element);
            double flops = 2.0 * 16 * 8 * 16 * 8 * MmaIterations * mmaGroups * (BenchKernels.Threads / 32);
            var args = new ThroughputArgs(tileBuffer.View.AsContiguous().Cast<Chunk16>(), sink.View, MmaIterations);
            double ms = Time(accelerator, () => kernel.Launch(accelerator.DefaultStream,
                new KernelConfig(mmaGroups, BenchKernels.Threads), args));
            report.Rates.Add(($"mma.sync m16n8k16 {type}, register operands", ms, flops / ms / 1e9));
        }

        // Forward inner step at d = 128: one CTA per SM (the dense forward's 8-warp tile uses ~200 registers).
        const int TileIterations = 2048;
        foreach (var (softmax, label) in new[] { (typeof(WithoutSoftmax), "QKᵀ + PV"), (typeof(WithSoftmax), "QKᵀ + softmax + PV") })
        {
            int groups = sms * 2;
            using var sink = accelerator.Allocate1D<float>(groups * BenchKernels.Threads);
            var kernel = host.Kernels.Get<ThroughputArgs>(typeof(BenchKernels), nameof(BenchKernels.TileKernel), element, softmax);
            double flops = 4.0 * 16 * BenchKernels.Keys * BenchKernels.HeadDim * TileIterations * groups * (BenchKernels.Threads / 32);
            var args = new ThroughputArgs(tileBuffer.View.AsContiguous().Cast<Chunk16>(), sink.View, TileIterations);
            double ms = Time(accelerator, () => kernel.Launch(accelerator.DefaultStream,
                new KernelConfig(new Index3D(groups, 1, 1), new Index3D(BenchKernels.Threads, 1, 1),
                    SharedMemoryConfig.RequestDynamic<Chunk16>(BenchKernels.SharedChunks)), args));
            report.Rates.Add(($"forward step d=128 {type}: {label} (ldmatrix from swizzled tiles)", ms, flops / ms / 1e9));
        }
    }

    /// <summary>Median of <see cref="Repeats"/> CUDA-event timings after <see cref="WarmUps"/> launches, in ms.</summary>
    private static double Time(Accelerator accelerator, Action launch)
    {
        for (int i = 0; i < WarmUps; i++) launch();
        accelerator.Synchronize();
        var samples = new double[Repeats];
        for (int i = 0; i < Repeats; i++)
        {
            var start = accelerator.AddProfilingMarker();
            launch();
            var end = accelerator.AddProfilingMarker();
            accelerator.Synchronize();
            samples[i] = end.MeasureFrom(start).TotalMilliseconds;
            start.Dispose();
            end.Dispose();
        }
        Array.Sort(samples);
        return samples[Repeats / 2];
    }

    private static void Resources(Report report, KernelCache cache)
    {
        foreach (var kernel in cache.Loaded)
            report.Kernels.Add((kernel.Name, kernel.RegistersPerThread, kernel.LocalBytesPerThread));
        foreach (var (name, _, local) in report.Kernels)
        {
            // The ldmatrix check calls the CPU emulation's direct reader on purpose (as the reference).
            if (local == 0 || name.StartsWith(nameof(LdMatrixTests), StringComparison.Ordinal)) continue;
            report.Failures++;
            report.Checks.Add(($"local memory of {name}", "FAIL", $"{local} bytes per thread"));
        }
    }

    private sealed class Report(string device)
    {
        public List<(string Name, string Result, string Detail)> Checks { get; } = [];

        public List<(string Name, double Milliseconds, double Tflops)> Rates { get; } = [];

        public List<(string Name, int Registers, int LocalBytes)> Kernels { get; } = [];

        public int Failures { get; set; }

        public string Markdown()
        {
            var text = new StringBuilder();
            var c = CultureInfo.InvariantCulture;
            text.AppendLine(c, $"# Primitives on {device}").AppendLine();
            text.AppendLine("| check | result | detail |").AppendLine("|---|---|---|");
            foreach (var (name, result, detail) in Checks) text.AppendLine(c, $"| {name} | {result} | {detail} |");
            text.AppendLine().AppendLine("| throughput (median of 10, CUDA events) | ms | TFLOP/s |").AppendLine("|---|---|---|");
            foreach (var (name, ms, tflops) in Rates) text.AppendLine(c, $"| {name} | {ms:F3} | {tflops:F1} |");
            text.AppendLine().AppendLine("| kernel | registers | local bytes |").AppendLine("|---|---|---|");
            foreach (var (name, registers, local) in Kernels) text.AppendLine(c, $"| {name} | {registers} | {local} |");
            return text.ToString();
        }

        public string Json() => JsonSerializer.Serialize(new
        {
            device,
            checks = Checks.Select(x => new { name = x.Name, result = x.Result, detail = x.Detail }),
            throughput = Rates.Select(x => new { name = x.Name, milliseconds = x.Milliseconds, tflops = x.Tflops }),
            kernels = Kernels.Select(x => new { name = x.Name, registers = x.Registers, localBytes = x.LocalBytes }),
        }, new JsonSerializerOptions { WriteIndented = true });
    }
}
