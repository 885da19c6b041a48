namespace FlashMoBA.Reference;

/// <summary>Dense (FlashAttention-semantics) attention in float64; causal uses bottom-right alignment.</summary>
/// <remarks>
/// Causal: local query row <c>t</c> of a sequence attends to keys <c>0..p</c> with <c>p = t + Nk − Nq</c>;
/// a row with <c>p &lt; 0</c> attends to nothing (output 0, LSE +∞). Non-causal: every key of the sequence.
/// Arguments are checked first; a bad one raises <see cref="ArgumentException"/> naming it.
/// </remarks>
public static class DenseReference
{
    /// <summary>Output and LSE of dense attention. <paramref name="softmaxScale"/> defaults to 1/√d.</summary>
    public static AttentionOutput Forward(AttentionShape shape, double[] q, double[] k, double[] v, bool causal,
        double? softmaxScale = null)
    {
        double scale = ValidateInputs(shape, q, k, v, softmaxScale);
        return RowAttention.Forward(shape, q, k, v, scale, DenseKeys(causal));
    }

    /// <summary>Gradients of <see cref="Forward"/> w.r.t. q, k, v.</summary>
    public static AttentionGradients Backward(AttentionShape shape, double[] q, double[] k, double[] v, double[] dOut,
        bool causal, double? softmaxScale = null)
    {
        double scale = ValidateInputs(shape, q, k, v, softmaxScale);
        ArgumentRules.RequireLength(dOut, TensorLayout.QLength(shape), nameof(dOut), "[TotalQ, Heads, HeadDim]");
        return RowAttention.Backward(shape, q, k, v, dOut, scale, DenseKeys(causal));
    }

    /// <summary>Checks shape, q, k, v and the scale; returns the scale to use.</summary>
    internal static double ValidateInputs(AttentionShape shape, double[] q, double[] k, double[] v,
        double? softmaxScale)
    {
        ArgumentRules.RequireValidShape(shape, nameof(shape));
        ArgumentRules.RequireLength(q, TensorLayout.QLength(shape), nameof(q), "[TotalQ, Heads, HeadDim]");
        ArgumentRules.RequireLength(k, TensorLayout.KvLength(shape), nameof(k), "[TotalK, HeadsKv, HeadDim]");
        ArgumentRules.RequireLength(v, TensorLayout.KvLength(shape), nameof(v), "[TotalK, HeadsKv, HeadDim]");
        return ArgumentRules.ResolveScale(softmaxScale, shape.HeadDim, nameof(softmaxScale));
    }

    private static AttendedKeys DenseKeys(bool causal) => (sequence, localRow, _) =>
    {
        int lastKey = causal ? Math.Min(sequence.CausalPosition(localRow), sequence.LenK - 1) : sequence.LenK - 1;
        var keys = new List<int>();
        for (int j = 0; j <= lastKey; j++)
        {
            keys.Add(j);
        }

        return keys;
    };
}
