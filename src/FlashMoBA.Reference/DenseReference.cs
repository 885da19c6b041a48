namespace FlashMoBA.Reference;

/// <summary>Dense (FlashAttention-semantics) attention in float64; causal uses bottom-right alignment.</summary>
public static class DenseReference
{
    /// <summary>Output and LSE of dense attention. <paramref name="softmaxScale"/> defaults to 1/√d.</summary>
    public static AttentionOutput Forward(AttentionShape shape, double[] q, double[] k, double[] v, bool causal,
        double? softmaxScale = null) => throw new NotImplementedException();

    /// <summary>Gradients of <see cref="Forward"/> w.r.t. q, k, v.</summary>
    public static AttentionGradients Backward(AttentionShape shape, double[] q, double[] k, double[] v, double[] dOut,
        bool causal, double? softmaxScale = null) => throw new NotImplementedException();
}
