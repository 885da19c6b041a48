namespace FlashMoBA.Cli.Bench;

/// <summary>One benchmark problem: <c>Batch</c> sequences of <c>Seqlen</c> tokens (self-attention) and the MoBA parameters.</summary>
/// <param name="Batch">Sequences b.</param>
/// <param name="Seqlen">Tokens per sequence N.</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="HeadsKv">KV heads Hk.</param>
/// <param name="HeadDim">Head dimension d.</param>
/// <param name="BlockSize">MoBA block size B.</param>
/// <param name="TopK">MoBA top-k.</param>
/// <param name="Causal">Causal masking.</param>
/// <param name="ElementType">Storage type.</param>
/// <param name="Seed">Seed of the random inputs.</param>
/// <param name="HeadChunk">MoBA query heads per chunk of the attention passes; null for the library's automatic choice.</param>
internal sealed record BenchShape(
    int Batch, int Seqlen, int Heads, int HeadsKv, int HeadDim, int BlockSize, int TopK, bool Causal,
    ElementType ElementType, int Seed, int? HeadChunk = null)
{
    /// <summary>The varlen batch: <see cref="Batch"/> equal sequences.</summary>
    public VarlenBatch VarlenBatch => VarlenBatch.Uniform(Batch, Seqlen);

    /// <summary>The MoBA configuration.</summary>
    public MobaConfig Config => new(BlockSize, TopK) { Causal = Causal, ElementType = ElementType, HeadChunk = HeadChunk };

    /// <summary>Total tokens b·N.</summary>
    public int TotalTokens => checked(Batch * Seqlen);

    /// <summary>Elements of q (and of the output): b·N·H·d.</summary>
    public long QElements => (long)TotalTokens * Heads * HeadDim;

    /// <summary>Elements of k (and of v): b·N·Hk·d.</summary>
    public long KvElements => (long)TotalTokens * HeadsKv * HeadDim;
}
