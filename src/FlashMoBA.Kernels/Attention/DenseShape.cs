namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Sizes of a dense attention call (DESIGN.md §3 layouts): <c>q, output, dq [TotalQ, Heads, HeadDim]</c>,
/// <c>k, v, dk, dv [TotalK, HeadsKv, HeadDim]</c>, <c>lse [Heads, TotalQ]</c>, cuSeqlens <c>[Batch + 1]</c>.
/// The longest sequences size the grids.
/// </summary>
internal readonly record struct DenseShape(int Batch, int TotalQ, int TotalK, int Heads, int HeadsKv, int HeadDim,
    int MaxSeqlenQ, int MaxSeqlenK)
{
    /// <summary>The shape of <paramref name="batch"/> with the given heads and head dimension.</summary>
    public static DenseShape Of(VarlenBatch batch, int heads, int headsKv, int headDim)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return new(batch.Batch, batch.TotalQ, batch.TotalK, heads, headsKv, headDim, batch.MaxSeqlenQ, batch.MaxSeqlenK);
    }

    /// <summary>Elements of q, the output and dq.</summary>
    public long QLength => (long)TotalQ * Heads * HeadDim;

    /// <summary>Elements of k, v, dk and dv.</summary>
    public long KvLength => (long)TotalK * HeadsKv * HeadDim;

    /// <summary>Elements of the LSE and of D.</summary>
    public long LseLength => (long)Heads * TotalQ;
}
