namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Host-side shape of a varlen dense attention call: <c>q [TotalQ, Heads, HeadDim]</c>,
/// <c>k, v [TotalK, HeadsKv, HeadDim]</c>, and the longest sequences (they size the grids).
/// </summary>
internal readonly record struct DenseAttentionShape(int Batch, int TotalQ, int TotalK, int Heads, int HeadsKv,
    int HeadDim, int MaxSeqlenQ, int MaxSeqlenK)
{
    /// <summary>Head dimensions the dense kernels are specialised for.</summary>
    public static readonly int[] SupportedHeadDims = [64, 128];

    /// <summary>Builds and validates a shape from host copies of the prefix sums.</summary>
    public static DenseAttentionShape FromCuSeqlens(int[] cuSeqlensQ, int[] cuSeqlensK, int heads, int headsKv, int headDim)
    {
        ArgumentNullException.ThrowIfNull(cuSeqlensQ);
        ArgumentNullException.ThrowIfNull(cuSeqlensK);
        if (cuSeqlensQ.Length < 2)
            throw new ArgumentException("cuSeqlensQ must hold batch+1 ≥ 2 prefix sums.", nameof(cuSeqlensQ));
        if (cuSeqlensK.Length != cuSeqlensQ.Length)
            throw new ArgumentException("cuSeqlensK must have the same length (batch+1) as cuSeqlensQ.", nameof(cuSeqlensK));
        int maxQ = MaxLength(cuSeqlensQ, nameof(cuSeqlensQ)), maxK = MaxLength(cuSeqlensK, nameof(cuSeqlensK));
        if (heads < 1) throw new ArgumentException("heads must be ≥ 1.", nameof(heads));
        if (headsKv < 1 || heads % headsKv != 0)
            throw new ArgumentException($"headsKv must be ≥ 1 and divide heads ({heads}).", nameof(headsKv));
        if (Array.IndexOf(SupportedHeadDims, headDim) < 0)
            throw new ArgumentException($"headDim must be one of {string.Join(", ", SupportedHeadDims)}.", nameof(headDim));
        return new DenseAttentionShape(cuSeqlensQ.Length - 1, cuSeqlensQ[^1], cuSeqlensK[^1], heads, headsKv, headDim,
            maxQ, maxK);
    }

    private static int MaxLength(int[] cuSeqlens, string name)
    {
        if (cuSeqlens[0] != 0) throw new ArgumentException($"{name} must start at 0.", name);
        int max = 0;
        for (int i = 1; i < cuSeqlens.Length; i++)
        {
            int length = cuSeqlens[i] - cuSeqlens[i - 1];
            if (length < 0) throw new ArgumentException($"{name} must be non-decreasing (index {i}).", name);
            max = Math.Max(max, length);
        }
        return max;
    }
}
