namespace FlashMoBA;

/// <summary>
/// The sizes of a validated attention call (DESIGN.md §3): <c>q [TotalQ, Heads, HeadDim]</c>,
/// <c>k, v [TotalK, HeadsKv, HeadDim]</c>, <c>lse [Heads, TotalQ]</c>. Produced by
/// <see cref="AttentionShapes.Validate(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, VarlenBatch, MobaConfig)"/>.
/// </summary>
/// <param name="TotalQ">Query rows over the batch.</param>
/// <param name="TotalK">Key rows over the batch.</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="HeadsKv">Key/value heads Hk (H is a multiple of Hk).</param>
/// <param name="HeadDim">Head dimension d.</param>
/// <param name="SoftmaxScale">The resolved softmax scale (the config's, or 1/√d).</param>
public readonly record struct AttentionDims(int TotalQ, int TotalK, int Heads, int HeadsKv, int HeadDim, double SoftmaxScale)
{
    /// <summary>Query heads that share one KV head: H / Hk.</summary>
    public int GroupSize => Heads / HeadsKv;

    /// <summary>KV head read by query head <paramref name="head"/>.</summary>
    public int KvHeadOf(int head) => head / GroupSize;

    /// <summary>Shape of q, the output and dq: <c>[TotalQ, Heads, HeadDim]</c>.</summary>
    public int[] QShape => [TotalQ, Heads, HeadDim];

    /// <summary>Shape of k, v, dk and dv: <c>[TotalK, HeadsKv, HeadDim]</c>.</summary>
    public int[] KvShape => [TotalK, HeadsKv, HeadDim];

    /// <summary>Shape of the log-sum-exp: <c>[Heads, TotalQ]</c>.</summary>
    public int[] LseShape => [Heads, TotalQ];
}
