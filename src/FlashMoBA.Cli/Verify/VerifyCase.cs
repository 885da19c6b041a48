using System.Globalization;
using FlashMoBA.Reference;

namespace FlashMoBA.Cli.Verify;

/// <summary>One problem a family runs: a varlen batch, head layout, MoBA parameters, dtype and seed.</summary>
/// <param name="Name">Short kind, e.g. "ragged", "varlen", "gqa".</param>
/// <param name="LengthsQ">Query length per sequence.</param>
/// <param name="LengthsK">Key length per sequence.</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="HeadsKv">KV heads Hk.</param>
/// <param name="HeadDim">Head dimension d.</param>
/// <param name="BlockSize">MoBA block size B.</param>
/// <param name="TopK">MoBA top-k.</param>
/// <param name="Causal">Causal masking (bottom-right aligned).</param>
/// <param name="ElementType">Storage type of q, k, v.</param>
/// <param name="Seed">Seed of the random inputs.</param>
internal sealed record VerifyCase(
    string Name, int[] LengthsQ, int[] LengthsK, int Heads, int HeadsKv, int HeadDim, int BlockSize, int TopK,
    bool Causal, ElementType ElementType, int Seed)
{
    /// <summary>Key-convolution width for families that apply it (null: none).</summary>
    public int? KeyConvWidth { get; init; }

    /// <summary>MoBA query heads per chunk of the attention passes (null: the library's automatic choice).</summary>
    public int? HeadChunk { get; init; }

    /// <summary>A family's own description of the case, replacing the generated <see cref="Label"/>.</summary>
    public string? CustomLabel { get; init; }

    /// <summary>The varlen batch of the case.</summary>
    public VarlenBatch Batch => VarlenBatch.FromLengths(LengthsQ, LengthsK);

    /// <summary>The MoBA configuration of the case.</summary>
    public MobaConfig Config => new(BlockSize, TopK)
    {
        Causal = Causal, ElementType = ElementType, KeyConvWidth = KeyConvWidth, HeadChunk = HeadChunk,
    };

    /// <summary>The same problem as the reference describes it.</summary>
    public AttentionShape ReferenceShape => AttentionShape.FromLengths(LengthsQ, LengthsK, Heads, HeadsKv, HeadDim);

    /// <summary>One-line description for the table: "varlen q=72,41,20 k=80,41,9 H4/2 d64 B16 k3 causal bf16".</summary>
    public string Label
    {
        get
        {
            if (CustomLabel is not null) return CustomLabel;
            string lengths = LengthsQ.SequenceEqual(LengthsK)
                ? "n=" + Join(LengthsQ)
                : $"q={Join(LengthsQ)} k={Join(LengthsK)}";
            string dtype = ElementType == ElementType.Float16 ? "fp16" : "bf16";
            string conv = KeyConvWidth is { } w ? $" kconv{w}" : "";
            string chunk = HeadChunk is { } c ? $" chunk{c}" : "";
            return $"{Name} {lengths} H{Heads}/{HeadsKv} d{HeadDim} B{BlockSize} k{TopK} {(Causal ? "causal" : "full")}{conv}{chunk} {dtype}";
        }
    }

    private static string Join(int[] values) => string.Join(',', values.Select(v => v.ToString(CultureInfo.InvariantCulture)));
}
