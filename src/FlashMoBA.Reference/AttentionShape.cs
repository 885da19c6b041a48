namespace FlashMoBA.Reference;

/// <summary>
/// Shape of a varlen attention problem (DESIGN.md §3): <c>q [TotalQ, Heads, HeadDim]</c>,
/// <c>k, v [TotalK, HeadsKv, HeadDim]</c>, flattened row-major; sequence <c>b</c> owns query rows
/// <c>[CuSeqlensQ[b], CuSeqlensQ[b+1])</c> and key rows <c>[CuSeqlensK[b], CuSeqlensK[b+1])</c>.
/// </summary>
/// <param name="CuSeqlensQ">Prefix sums of query lengths, <c>[batch+1]</c>, starting at 0.</param>
/// <param name="CuSeqlensK">Prefix sums of key lengths, <c>[batch+1]</c>, starting at 0.</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="HeadsKv">Key/value heads Hk; H % Hk == 0 and query head h reads KV head h / (H / Hk).</param>
/// <param name="HeadDim">Head dimension d.</param>
public sealed record AttentionShape(int[] CuSeqlensQ, int[] CuSeqlensK, int Heads, int HeadsKv, int HeadDim)
{
    /// <summary>Number of sequences.</summary>
    public int Batch => CuSeqlensQ.Length - 1;

    /// <summary>Total query rows over the batch.</summary>
    public int TotalQ => CuSeqlensQ[^1];

    /// <summary>Total key rows over the batch.</summary>
    public int TotalK => CuSeqlensK[^1];

    /// <summary>Query heads per KV head.</summary>
    public int GroupSize => Heads / HeadsKv;

    /// <summary>KV head read by query head <paramref name="head"/>.</summary>
    public int KvHeadOf(int head) => head / GroupSize;

    /// <summary>Builds a shape with equal Q and K lengths per sequence.</summary>
    public static AttentionShape FromLengths(int[] lengths, int heads, int headsKv, int headDim)
        => FromLengths(lengths, lengths, heads, headsKv, headDim);

    /// <summary>Builds a shape from per-sequence query and key lengths.</summary>
    public static AttentionShape FromLengths(int[] lengthsQ, int[] lengthsK, int heads, int headsKv, int headDim)
        => new(PrefixSum(lengthsQ), PrefixSum(lengthsK), heads, headsKv, headDim);

    private static int[] PrefixSum(int[] lengths)
    {
        var cu = new int[lengths.Length + 1];
        for (int i = 0; i < lengths.Length; i++) cu[i + 1] = cu[i] + lengths[i];
        return cu;
    }
}

/// <summary>Attention forward result: <c>Output [TotalQ, Heads, HeadDim]</c>, <c>Lse [Heads, TotalQ]</c>
/// (natural log; +∞ for rows that attend to nothing, whose output is 0).</summary>
public sealed record AttentionOutput(double[] Output, double[] Lse);

/// <summary>Attention gradients: <c>DQ</c> shaped like q, <c>DK</c>/<c>DV</c> like k/v (summed over a GQA group).</summary>
public sealed record AttentionGradients(double[] DQ, double[] DK, double[] DV);

/// <summary>Key-convolution gradients: <c>DK [TotalK, HeadsKv, HeadDim]</c>, <c>DW [Width, HeadsKv, HeadDim]</c>.</summary>
public sealed record KeyConvGradients(double[] DK, double[] DW);
