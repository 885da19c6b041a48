namespace FlashMoBA.Cli.Bench;

/// <summary>
/// Effective FLOP counts: 4·d FLOPs per attended (query, key) pair and head for the forward (QKᵀ and PV,
/// a multiply-add each); the backward costs 2.5× the forward in total (FlashAttention-2's convention).
/// </summary>
internal static class AttentionFlops
{
    /// <summary>Backward plus forward relative to the forward alone.</summary>
    public const double ForwardBackwardFactor = 2.5;

    /// <summary>Dense attention: causal uses the conventional N²/2 pairs per sequence, non-causal N².</summary>
    public static double Dense(BenchShape shape, BenchPass pass)
    {
        double pairs = (double)shape.Seqlen * shape.Seqlen * (shape.Causal ? 0.5 : 1.0);
        return Scale(4.0 * shape.Batch * shape.Heads * shape.HeadDim * pairs, pass);
    }

    /// <summary>MoBA attention: the pairs the routing rules admit. Causal row t (self-attention, p = t)
    /// sees its own block up to itself plus min(topK−1, own block index) full earlier blocks;
    /// non-causal rows see min(topK, blocks) blocks (counted full, an upper bound when the partial last
    /// block is chosen).</summary>
    public static double Moba(BenchShape shape, BenchPass pass) =>
        Scale(4.0 * shape.Batch * shape.Heads * shape.HeadDim * MobaPairsPerSequence(shape), pass);

    /// <summary>Router gating: 2·d FLOPs per (query, candidate block) score per head; causal rows score
    /// only the blocks before their own.</summary>
    public static double Router(BenchShape shape)
    {
        long n = shape.Seqlen, block = shape.BlockSize;
        long blocks = (n + block - 1) / block;
        double scores = shape.Causal
            ? Enumerable.Range(0, (int)blocks).Sum(j => (double)j * Math.Min(block, n - j * block))
            : (double)n * blocks;
        return 2.0 * shape.Batch * shape.Heads * shape.HeadDim * scores;
    }

    /// <summary>Attended (query, key) pairs of one sequence under MoBA routing.</summary>
    public static double MobaPairsPerSequence(BenchShape shape)
    {
        long n = shape.Seqlen, block = shape.BlockSize, topK = shape.TopK;
        if (!shape.Causal) return (double)n * Math.Min(n, topK * block);
        double pairs = 0;
        long blocks = (n + block - 1) / block;
        for (long j = 0; j < blocks; j++)
        {
            long rows = Math.Min(block, n - j * block);
            double own = rows * (rows + 1) / 2.0;            // row i of the block sees i + 1 keys of it
            double earlier = rows * (double)Math.Min(topK - 1, j) * block;
            pairs += own + earlier;
        }
        return pairs;
    }

    private static double Scale(double forward, BenchPass pass) =>
        pass == BenchPass.ForwardBackward ? forward * ForwardBackwardFactor : forward;
}
