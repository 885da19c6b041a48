namespace FlashMoBA.Reference;

/// <summary>MoBA routing in float64 (DESIGN.md §3 steps 1–3): key blocks, centroids, gate scores, top-k.</summary>
public static class BlockRouting
{
    /// <summary>Prefix sums of per-sequence key-block counts <c>ceil(Nk / blockSize)</c>, <c>[batch+1]</c>.</summary>
    public static int[] CuBlocks(int[] cuSeqlensK, int blockSize) => throw new NotImplementedException();

    /// <summary>Block centroids <c>[totalBlocks, HeadsKv, HeadDim]</c>, blocks numbered by <see cref="CuBlocks"/>;
    /// a partial last block is divided by its real key count.</summary>
    public static double[] Centroids(AttentionShape shape, double[] k, int blockSize) => throw new NotImplementedException();

    /// <summary>
    /// Selected key blocks <c>[TotalQ, Heads, topK]</c> as sequence-local block indices, −1 padded.
    /// Causal: slot 0 is the own block <c>p / blockSize</c> (<c>p = t + Nk − Nq</c>), then the others among
    /// earlier blocks by descending score; rows with p &lt; 0 are all −1. Non-causal: the top <c>topK</c>
    /// of all blocks by descending score. Ties go to the higher block index.
    /// </summary>
    public static int[] SelectBlocks(AttentionShape shape, double[] q, double[] k, int blockSize, int topK, bool causal)
        => throw new NotImplementedException();
}
