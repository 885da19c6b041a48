namespace FlashMoBA.Reference;

/// <summary>MoBA attention in float64 (DESIGN.md §3 steps 4–6).</summary>
public static class MobaReference
{
    /// <summary>Routes with <see cref="BlockRouting.SelectBlocks"/> and attends. <paramref name="softmaxScale"/> defaults to 1/√d.</summary>
    public static AttentionOutput Forward(AttentionShape shape, double[] q, double[] k, double[] v,
        int blockSize, int topK, bool causal, double? softmaxScale = null) => throw new NotImplementedException();

    /// <summary>Attention over a given selection <c>topkIndex [TotalQ, Heads, topK]</c> (−1 = unused slot;
    /// duplicates count once): one softmax over the union of the selected blocks, keys after p removed when causal.</summary>
    public static AttentionOutput ForwardWithSelection(AttentionShape shape, double[] q, double[] k, double[] v,
        int blockSize, int[] topkIndex, int topK, bool causal, double softmaxScale) => throw new NotImplementedException();

    /// <summary>Gradients of <see cref="Forward"/> w.r.t. q, k, v (routing not differentiated).</summary>
    public static AttentionGradients Backward(AttentionShape shape, double[] q, double[] k, double[] v, double[] dOut,
        int blockSize, int topK, bool causal, double? softmaxScale = null) => throw new NotImplementedException();

    /// <summary>Gradients of <see cref="ForwardWithSelection"/> w.r.t. q, k, v.</summary>
    public static AttentionGradients BackwardWithSelection(AttentionShape shape, double[] q, double[] k, double[] v,
        double[] dOut, int blockSize, int[] topkIndex, int topK, bool causal, double softmaxScale)
        => throw new NotImplementedException();
}
