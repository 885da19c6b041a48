namespace FlashMoBA.Reference.Tests.Infrastructure;

/// <summary>Varlen shapes shared by the property tests, each chosen to exercise a rule.</summary>
internal static class TestShapes
{
    /// <summary>
    /// Four sequences with Nq = Nk (7), Nq &lt; Nk (1 vs 4, 5 vs 11) and Nq &gt; Nk (12 vs 9, so rows 0–2 of that
    /// sequence have p &lt; 0), lengths not multiples of the block sizes used (2, 3, 4).
    /// </summary>
    public static AttentionShape Varlen(int heads, int headsKv, int headDim) =>
        AttentionShape.FromLengths([7, 1, 12, 5], [7, 4, 9, 11], heads, headsKv, headDim);

    /// <summary>Adds a sequence with queries but no keys and one with keys but no queries.</summary>
    public static AttentionShape VarlenWithEmptySequences(int heads, int headsKv, int headDim) =>
        AttentionShape.FromLengths([3, 2, 0, 6], [5, 0, 3, 8], heads, headsKv, headDim);

    /// <summary>KV head of query head <paramref name="head"/>, from DESIGN.md §3 (not from the library under test):
    /// consecutive query heads share a KV head.</summary>
    public static int KvHeadOf(AttentionShape shape, int head) => head / (shape.Heads / shape.HeadsKv);

    /// <summary>Key/value tensor with KV head <c>g</c> of <paramref name="kv"/> copied to each query head of its
    /// group: the MHA equivalent of a GQA input.</summary>
    public static double[] RepeatKvHeads(AttentionShape shape, double[] kv)
    {
        int d = shape.HeadDim;
        var repeated = new double[(long)shape.TotalK * shape.Heads * d];
        for (int row = 0; row < shape.TotalK; row++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                Array.Copy(kv, (row * shape.HeadsKv + KvHeadOf(shape, h)) * d, repeated, (row * shape.Heads + h) * d, d);
            }
        }

        return repeated;
    }

    /// <summary>Inverse of <see cref="RepeatKvHeads"/> for gradients: sums the query heads of each group.</summary>
    public static double[] SumOverGroups(AttentionShape shape, double[] perQueryHead)
    {
        int d = shape.HeadDim;
        var summed = new double[(long)shape.TotalK * shape.HeadsKv * d];
        for (int row = 0; row < shape.TotalK; row++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                for (int c = 0; c < d; c++)
                {
                    summed[(row * shape.HeadsKv + KvHeadOf(shape, h)) * d + c] += perQueryHead[(row * shape.Heads + h) * d + c];
                }
            }
        }

        return summed;
    }
}
