using CommandLine;
using FlashMoBA.Cli.Bench;
using FlashMoBA.Cli.Devices;

namespace FlashMoBA.Cli.Commands;

/// <summary>Options of <c>flashmoba bench</c>; unset values take the device's defaults (DESIGN.md §7 shape on a GPU).</summary>
[Verb("bench", HelpText = "Time MoBA against dense attention over a sweep of sequence lengths (GPU: b=2 H=16 d=128 fp16 causal B=128 topK=8, N=8K.. what fits; CPU: a small sweep).")]
internal sealed class BenchOptions
{
    /// <summary>Accelerator.</summary>
    [Option("device", Default = DeviceChoice.Auto, HelpText = "auto | cuda | cpu.")]
    public DeviceChoice Device { get; set; }

    /// <summary>What to time.</summary>
    [Option("mode", Default = BenchMode.Fwd, HelpText = "fwd (MoBA router+attention vs dense) | fwdbwd | router | dense | densefwdbwd | keyconv | keyconvfwdbwd.")]
    public BenchMode Mode { get; set; }

    /// <summary>Explicit sequence lengths.</summary>
    [Option("seqlen", Separator = ',', HelpText = "Sequence lengths to run, e.g. 8192,16384 (overrides --min-seqlen/--max-seqlen).")]
    public IEnumerable<int> Seqlens { get; set; } = [];

    /// <summary>Sweep start.</summary>
    [Option("min-seqlen", HelpText = "First N of the doubling sweep (default: 8192 on GPU, 128 on CPU).")]
    public int? MinSeqlen { get; set; }

    /// <summary>Sweep end.</summary>
    [Option("max-seqlen", HelpText = "Last N of the doubling sweep (default: 524288 on GPU, stopping early when memory runs out; 512 on CPU).")]
    public int? MaxSeqlen { get; set; }

    /// <summary>Batch.</summary>
    [Option("batch", HelpText = "Sequences b (default: 2 on GPU, 1 on CPU).")]
    public int? Batch { get; set; }

    /// <summary>Query heads.</summary>
    [Option("heads", HelpText = "Query heads H (default: 16 on GPU, 2 on CPU).")]
    public int? Heads { get; set; }

    /// <summary>KV heads.</summary>
    [Option("heads-kv", HelpText = "KV heads Hk (default: = heads).")]
    public int? HeadsKv { get; set; }

    /// <summary>Head dim.</summary>
    [Option("head-dim", HelpText = "Head dimension d (default: 128 on GPU, 64 on CPU).")]
    public int? HeadDim { get; set; }

    /// <summary>Block size.</summary>
    [Option("block-size", HelpText = "MoBA block size B (default: 128 on GPU, 32 on CPU).")]
    public int? BlockSize { get; set; }

    /// <summary>Top-k.</summary>
    [Option("top-k", HelpText = "MoBA top-k (default: 8 on GPU, 2 on CPU).")]
    public int? TopK { get; set; }

    /// <summary>MoBA head chunk.</summary>
    [Option("head-chunk", HelpText = "MoBA query heads per chunk of the attention passes, a multiple of H/Hk (default: automatic, see MobaConfig.HeadChunk).")]
    public int? HeadChunk { get; set; }

    /// <summary>Storage type.</summary>
    [Option("dtype", Default = DTypeChoice.Fp16, HelpText = "fp16 | bf16.")]
    public DTypeChoice DType { get; set; }

    /// <summary>Disables causal masking.</summary>
    [Option("non-causal", HelpText = "Full (non-causal) attention instead of causal.")]
    public bool NonCausal { get; set; }

    /// <summary>Timed iterations.</summary>
    [Option("repeats", HelpText = "Timed iterations per point (default: 10 on GPU, 2 on CPU).")]
    public int? Repeats { get; set; }

    /// <summary>Warm-up iterations.</summary>
    [Option("warmup", HelpText = "Untimed iterations before timing (default: 3 on GPU, 1 on CPU).")]
    public int? Warmup { get; set; }

    /// <summary>Dense cut-off.</summary>
    [Option("dense-max-seqlen", HelpText = "Skip the dense baseline above this N (default: 131072 on GPU, unlimited on CPU).")]
    public int? DenseMaxSeqlen { get; set; }

    /// <summary>Seed.</summary>
    [Option("seed", Default = 1, HelpText = "Seed of the random inputs.")]
    public int Seed { get; set; } = 1;

    /// <summary>JSON output.</summary>
    [Option("json", HelpText = "Write the report (settings, rows, all samples) as JSON to this file.")]
    public string? Json { get; set; }

    /// <summary>CSV output.</summary>
    [Option("csv", HelpText = "Write the rows as CSV to this file.")]
    public string? Csv { get; set; }

    /// <summary>SVG plot output.</summary>
    [Option("plot", HelpText = "Draw latency vs N (log scale) as an SVG file.")]
    public string? Plot { get; set; }
}
