using FlashMoBA.Cli.Bench;
using FlashMoBA.Cli.Devices;

namespace FlashMoBA.Cli.Commands;

/// <summary><c>flashmoba bench</c>: runs the sweep of the chosen mode and writes the table and files.</summary>
internal sealed class BenchCommand(BenchOptions options, TextWriter stdout, TextWriter stderr)
{
    /// <summary>GPU sweep defaults: the shape of DESIGN.md §7.</summary>
    private static readonly BenchDefaults Gpu = new(Batch: 2, Heads: 16, HeadDim: 128, BlockSize: 128, TopK: 8,
        MinSeqlen: 8192, MaxSeqlen: 512 * 1024, Repeats: 10, Warmup: 3, DenseMaxSeqlen: 128 * 1024);

    /// <summary>CPU sweep defaults: emulated warps are slow, so a small shape.</summary>
    private static readonly BenchDefaults Cpu = new(Batch: 1, Heads: 2, HeadDim: 64, BlockSize: 32, TopK: 2,
        MinSeqlen: 128, MaxSeqlen: 512, Repeats: 2, Warmup: 1, DenseMaxSeqlen: int.MaxValue);

    /// <summary>Targets by name; the registry's by default (tests substitute their own).</summary>
    public IReadOnlyDictionary<string, IBenchTarget> Targets { get; init; } = BenchRegistry.Discover();

    /// <summary>Whether the progress bar redraws in place (a terminal) or prints lines.</summary>
    public bool InteractiveProgress { get; init; } = !Console.IsErrorRedirected;

    /// <summary>The command line, recorded in the JSON report.</summary>
    public string CommandText { get; init; } = "flashmoba " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));

    /// <summary>Runs the verb.</summary>
    public int Execute()
    {
        var (subjectName, pass, baselineName) = options.Mode.Plan();
        string mode = options.Mode.ToString().ToLowerInvariant();
        foreach (string? path in (string?[])[options.Json, options.Csv, options.Plot])
        {
            if (path is not null && Directory.Exists(path)) throw new UsageException($"output file '{path}' is a directory");
        }

        using var session = DeviceSession.Open(options.Device, profiling: true);
        var defaults = session.IsCuda ? Gpu : Cpu;
        var shapes = ResolveShapes(defaults);
        int repeats = AtLeast(options.Repeats ?? defaults.Repeats, 1, "--repeats");
        int warmup = AtLeast(options.Warmup ?? defaults.Warmup, 0, "--warmup");
        if (!Targets.TryGetValue(subjectName, out var subject) || !subject.Supports(pass))
            throw new UsageException($"--mode {mode} needs the '{subjectName}' {Describe(pass)} target, which this build does not have (available: {Available()})");
        IBenchTarget? baseline = baselineName is not null && Targets.TryGetValue(baselineName, out var b) && b.Supports(pass) ? b : null;
        var first = shapes[0];
        stdout.WriteLine(session.IsCuda
            ? $"bench on {session.Label}"
            : "bench on the CPU (ILGPU CPU accelerator, no CUDA device used): a small sweep; timings say nothing about GPU speed.");
        stdout.WriteLine($"mode {mode}: {subject.Name} {Describe(pass)}{(baseline is null ? "" : $" vs {baseline.Name} {Describe(pass)}")}; " +
            $"b={first.Batch} H={first.Heads} Hk={first.HeadsKv} d={first.HeadDim} {first.ElementType.ShortName()} " +
            $"{(first.Causal ? "causal" : "non-causal")} B={first.BlockSize} topK={first.TopK}; warmup {warmup}, repeats {repeats}");
        if (baselineName is not null && baseline is null)
            stdout.WriteLine($"(no '{baselineName}' target in this build: baseline columns empty)");

        var runner = new BenchRunner(session, new ProgressBar(stderr, shapes.Count * (baseline is null ? 1 : 2), InteractiveProgress))
        {
            Warmup = warmup,
            Repeats = repeats,
            BaselineMaxSeqlen = options.DenseMaxSeqlen ?? defaults.DenseMaxSeqlen,
        };
        string date = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var rows = runner.Sweep(shapes, subject, baseline, pass);
        var report = new BenchReport(date, CommandText, session.Label, mode,
            $"{subject.Name} {Describe(pass)}", baseline is null ? null : $"{baseline.Name} {Describe(pass)}",
            first.Batch, first.Heads, first.HeadsKv, first.HeadDim, first.ElementType.ShortName(), first.Causal,
            first.BlockSize, first.TopK, warmup, repeats, rows);

        BenchTable.Write(stdout, report);
        if (options.Json is { } json) { BenchFiles.Save(json, BenchFiles.ToJson(report)); stdout.WriteLine($"wrote {json}"); }
        if (options.Csv is { } csv) { BenchFiles.Save(csv, BenchFiles.ToCsv(report)); stdout.WriteLine($"wrote {csv}"); }
        if (options.Plot is { } plot) { BenchFiles.Save(plot, SvgPlot.Render(report)); stdout.WriteLine($"wrote {plot}"); }
        return rows.Count > 0 && rows[0].Subject is not null ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }

    private List<BenchShape> ResolveShapes(BenchDefaults defaults)
    {
        int batch = AtLeast(options.Batch ?? defaults.Batch, 1, "--batch");
        int heads = AtLeast(options.Heads ?? defaults.Heads, 1, "--heads");
        int headsKv = AtLeast(options.HeadsKv ?? heads, 1, "--heads-kv");
        int headDim = options.HeadDim ?? defaults.HeadDim;
        if (heads % headsKv != 0) throw new UsageException($"--heads {heads} must be a multiple of --heads-kv {headsKv}");
        if (!AttentionShapes.SupportedHeadDims.Contains(headDim))
            throw new UsageException($"--head-dim {headDim} is not supported; supported: {string.Join(", ", AttentionShapes.SupportedHeadDims.ToArray())}");
        int blockSize = options.BlockSize ?? defaults.BlockSize, topK = options.TopK ?? defaults.TopK;
        try
        {
            _ = new MobaConfig(blockSize, topK);
        }
        catch (ArgumentException ex)
        {
            throw UsageException.From(ex, ex.ParamName == "topK" ? "--top-k" : "--block-size");
        }

        if (options.HeadChunk is { } chunk && (chunk < 1 || chunk % (heads / headsKv) != 0))
            throw new UsageException($"--head-chunk {chunk} must be >= 1 and a multiple of --heads / --heads-kv = {heads / headsKv}");

        List<int> seqlens = options.Seqlens.ToList();
        if (seqlens.Count == 0)
        {
            int min = AtLeast(options.MinSeqlen ?? defaults.MinSeqlen, 1, "--min-seqlen");
            int max = options.MaxSeqlen ?? Math.Max(defaults.MaxSeqlen, min);
            if (max < min) throw new UsageException($"--max-seqlen {max} is below --min-seqlen {min}");
            for (long n = min; n <= max; n *= 2) seqlens.Add((int)n);
        }
        foreach (int n in seqlens)
        {
            AtLeast(n, 1, "--seqlen");
            if ((long)n * batch > int.MaxValue) throw new UsageException($"--seqlen {n} x --batch {batch} exceeds {int.MaxValue} tokens");
        }
        return seqlens.Select(n => new BenchShape(batch, n, heads, headsKv, headDim, blockSize, topK, !options.NonCausal,
            options.DType.ToElementType(), options.Seed, options.HeadChunk)).ToList();
    }

    private string Available() => Targets.Count == 0 ? "none" : string.Join(", ", Targets.Keys.Order());

    private static string Describe(BenchPass pass) => pass == BenchPass.Forward ? "fwd" : "fwd+bwd";

    private static int AtLeast(int value, int min, string flag) =>
        value >= min ? value : throw new UsageException($"{flag} must be >= {min} (got {value})");

    private sealed record BenchDefaults(int Batch, int Heads, int HeadDim, int BlockSize, int TopK,
        int MinSeqlen, int MaxSeqlen, int Repeats, int Warmup, int DenseMaxSeqlen);
}
