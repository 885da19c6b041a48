using CommandLine;
using FlashMoBA.Cli.Devices;

namespace FlashMoBA.Cli.Commands;

/// <summary>Options of <c>flashmoba verify</c>; unset sizes take the device's defaults.</summary>
[Verb("verify", HelpText = "Check every kernel family against the float64 reference on random inputs; prints errors vs tolerance, exit 1 on any FAIL.")]
internal sealed class VerifyOptions
{
    /// <summary>Accelerator.</summary>
    [Option("device", Default = DeviceChoice.Auto, HelpText = "auto | cuda | cpu.")]
    public DeviceChoice Device { get; set; }

    /// <summary>Families to run (all when empty).</summary>
    [Option("family", Separator = ',', HelpText = "Comma-separated family names (see --list); default all.")]
    public IEnumerable<string> Families { get; set; } = [];

    /// <summary>Lists the families and exits.</summary>
    [Option("list", HelpText = "List the registered families and exit.")]
    public bool List { get; set; }

    /// <summary>Base sequence length.</summary>
    [Option("seqlen", HelpText = "Tokens per sequence of the base case (default: 72 on CPU, 500 on GPU).")]
    public int? Seqlen { get; set; }

    /// <summary>Sequences in the base case.</summary>
    [Option("batch", HelpText = "Sequences in the base case (default: 1 on CPU, 2 on GPU).")]
    public int? Batch { get; set; }

    /// <summary>Query heads.</summary>
    [Option("heads", HelpText = "Query heads H of the base cases (default: 2 on CPU, 4 on GPU).")]
    public int? Heads { get; set; }

    /// <summary>KV heads.</summary>
    [Option("heads-kv", HelpText = "KV heads Hk of the base cases (default: 1 on CPU, 2 on GPU).")]
    public int? HeadsKv { get; set; }

    /// <summary>Head dims.</summary>
    [Option("head-dim", Separator = ',', HelpText = "Head dims to cover, e.g. 64,128 (default: 64 on CPU, 64,128 on GPU).")]
    public IEnumerable<int> HeadDims { get; set; } = [];

    /// <summary>Block size.</summary>
    [Option("block-size", HelpText = "MoBA block size B (default: 16 on CPU, 64 on GPU).")]
    public int? BlockSize { get; set; }

    /// <summary>Top-k.</summary>
    [Option("top-k", HelpText = "MoBA top-k (default: 3 on CPU, 4 on GPU).")]
    public int? TopK { get; set; }

    /// <summary>Storage types.</summary>
    [Option("dtype", Separator = ',', HelpText = "fp16, bf16 or both, e.g. fp16,bf16; given explicitly, every case runs in each (default: both, alternating over the cases).")]
    public IEnumerable<DTypeChoice> DTypes { get; set; } = [];

    /// <summary>Seed.</summary>
    [Option("seed", Default = 1234, HelpText = "Base random seed.")]
    public int Seed { get; set; } = 1234;
}
