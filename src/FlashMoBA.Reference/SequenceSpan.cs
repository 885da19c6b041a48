namespace FlashMoBA.Reference;

/// <summary>
/// One sequence of a varlen batch: where its query and key rows start in the packed tensors and how
/// many there are. Causal attention aligns the bottom-right corners: local query row <c>t</c> sits at
/// key position <c>p = t + LenK − LenQ</c>.
/// </summary>
/// <param name="Index">Sequence number in the batch.</param>
/// <param name="QStart">First global query row.</param>
/// <param name="LenQ">Query rows (Nq).</param>
/// <param name="KStart">First global key row.</param>
/// <param name="LenK">Key rows (Nk).</param>
internal readonly record struct SequenceSpan(int Index, int QStart, int LenQ, int KStart, int LenK)
{
    /// <summary>Key position of local query row <paramref name="localRow"/> under bottom-right alignment.</summary>
    public int CausalPosition(int localRow) => localRow + LenK - LenQ;

    /// <summary>The sequences of <paramref name="shape"/> in batch order.</summary>
    public static IEnumerable<SequenceSpan> All(AttentionShape shape)
    {
        for (int b = 0; b < shape.Batch; b++)
        {
            yield return new SequenceSpan(
                b,
                shape.CuSeqlensQ[b],
                shape.CuSeqlensQ[b + 1] - shape.CuSeqlensQ[b],
                shape.CuSeqlensK[b],
                shape.CuSeqlensK[b + 1] - shape.CuSeqlensK[b]);
        }
    }
}
