using CommandLine;
using FlashMoBA.Cli.Devices;

namespace FlashMoBA.Cli.Commands;

/// <summary>Options of <c>flashmoba run</c>.</summary>
[Verb("run", HelpText = "Run MoBA attention on tensors from .npy files (q, k, v; optional dOut and cuSeqlens) and write output, LSE and gradients as .npy.")]
internal sealed class RunOptions
{
    /// <summary>q file.</summary>
    [Option('q', "query", Required = true, HelpText = "q as .npy, float16/float32, [totalQ, H, d] (varlen) or [b, N, H, d].")]
    public string Q { get; set; } = "";

    /// <summary>k file.</summary>
    [Option('k', "key", Required = true, HelpText = "k as .npy, [totalK, Hk, d] or [b, N, Hk, d].")]
    public string K { get; set; } = "";

    /// <summary>v file.</summary>
    [Option('v', "value", Required = true, HelpText = "v as .npy, shaped like k.")]
    public string V { get; set; } = "";

    /// <summary>Gradient of the output.</summary>
    [Option("dout", HelpText = "Gradient of the output as .npy, shaped like q; when given, the backward runs too.")]
    public string? DOut { get; set; }

    /// <summary>Prefix sums for q and k.</summary>
    [Option("cu-seqlens", HelpText = "int32 .npy [batch+1] of sequence starts, used for q and k (self-attention).")]
    public string? CuSeqlens { get; set; }

    /// <summary>Prefix sums for q.</summary>
    [Option("cu-seqlens-q", HelpText = "int32 .npy [batch+1] of query sequence starts (with --cu-seqlens-k).")]
    public string? CuSeqlensQ { get; set; }

    /// <summary>Prefix sums for k.</summary>
    [Option("cu-seqlens-k", HelpText = "int32 .npy [batch+1] of key sequence starts (with --cu-seqlens-q).")]
    public string? CuSeqlensK { get; set; }

    /// <summary>Output folder.</summary>
    [Option("out", Required = true, HelpText = "Folder for out.npy, lse.npy (and dq.npy, dk.npy, dv.npy, dw.npy); created if missing.")]
    public string Out { get; set; } = "";

    /// <summary>Block size.</summary>
    [Option("block-size", Default = 128, HelpText = "MoBA block size B (>= 16, multiple of 16).")]
    public int BlockSize { get; set; } = 128;

    /// <summary>Top-k.</summary>
    [Option("top-k", Default = 8, HelpText = "MoBA top-k (1..64).")]
    public int TopK { get; set; } = 8;

    /// <summary>Disables causal masking.</summary>
    [Option("non-causal", HelpText = "Full (non-causal) attention instead of causal.")]
    public bool NonCausal { get; set; }

    /// <summary>Softmax scale.</summary>
    [Option("softmax-scale", HelpText = "Softmax scale (default 1/sqrt(d)).")]
    public double? SoftmaxScale { get; set; }

    /// <summary>Compute type.</summary>
    [Option("dtype", Default = DTypeChoice.Fp16, HelpText = "fp16 | bf16: inputs are rounded to it; fp16 outputs are float16 .npy, bf16 outputs float32 .npy (numpy has no bfloat16).")]
    public DTypeChoice DType { get; set; }

    /// <summary>Key convolution width.</summary>
    [Option("key-conv-width", HelpText = "Apply the key convolution of width 3 or 5 (needs --key-conv-weights).")]
    public int? KeyConvWidth { get; set; }

    /// <summary>Key convolution weights.</summary>
    [Option("key-conv-weights", HelpText = "float32/float16 .npy [W, Hk, d] of key-convolution weights.")]
    public string? KeyConvWeights { get; set; }

    /// <summary>Engine.</summary>
    [Option("engine", HelpText = "kernels (the library on --device) | reference (float64 on the CPU). Default: kernels when built, else reference.")]
    public string? Engine { get; set; }

    /// <summary>Accelerator for the kernels engine.</summary>
    [Option("device", Default = DeviceChoice.Auto, HelpText = "auto | cuda | cpu (kernels engine).")]
    public DeviceChoice Device { get; set; }
}
