namespace FlashMoBA.Reference;

/// <summary>
/// The keys one query row attends to: ascending sequence-local key indices of
/// <paramref name="sequence"/>, for local query row <paramref name="localRow"/> and query head
/// <paramref name="head"/>. An empty list means the row attends to nothing.
/// </summary>
internal delegate IReadOnlyList<int> AttendedKeys(SequenceSpan sequence, int localRow, int head);

/// <summary>
/// Softmax attention where every query row has its own explicit key set (DESIGN.md §3 steps 5–6).
/// Dense and MoBA attention differ only in the <see cref="AttendedKeys"/> they pass in, so both share
/// this one forward and one backward.
/// </summary>
internal static class RowAttention
{
    /// <summary>Output <c>o_t = Σ P_j v_j</c> and <c>lse_t = ln Σ exp(scale · q_t·k_j)</c> for every row and head;
    /// a row with no keys gets output 0 and LSE +∞.</summary>
    public static AttentionOutput Forward(AttentionShape shape, double[] q, double[] k, double[] v, double scale,
        AttendedKeys attendedKeys)
    {
        int d = shape.HeadDim;
        var output = new double[TensorLayout.QLength(shape)];
        var lse = new double[(long)shape.Heads * shape.TotalQ];
        foreach (SequenceSpan sequence in SequenceSpan.All(shape))
        {
            for (int t = 0; t < sequence.LenQ; t++)
            {
                int row = sequence.QStart + t;
                for (int h = 0; h < shape.Heads; h++)
                {
                    IReadOnlyList<int> keys = attendedKeys(sequence, t, h);
                    int kvHead = shape.KvHeadOf(h);
                    int qOffset = TensorLayout.Q(shape, row, h);
                    (double[] probabilities, double rowLse) = Probabilities(shape, q, k, scale, sequence, row, h, keys);
                    lse[TensorLayout.Lse(shape, row, h)] = rowLse;
                    for (int j = 0; j < keys.Count; j++)
                    {
                        int vOffset = TensorLayout.Kv(shape, sequence.KStart + keys[j], kvHead);
                        for (int c = 0; c < d; c++)
                        {
                            output[qOffset + c] += probabilities[j] * v[vOffset + c];
                        }
                    }
                }
            }
        }

        return new AttentionOutput(output, lse);
    }

    /// <summary>
    /// Gradients of <c>L = Σ dOut ⊙ o</c> w.r.t. q, k and v with the key sets held fixed:
    /// <c>dP_j = dO·v_j</c>, <c>D = dO·o = Σ P_j dP_j</c>, <c>dS_j = P_j (dP_j − D)</c>,
    /// <c>dq = scale Σ dS_j k_j</c>, <c>dk_j += scale dS_j q</c>, <c>dv_j += P_j dO</c>.
    /// K/V gradients of a GQA group accumulate into the shared KV head.
    /// </summary>
    public static AttentionGradients Backward(AttentionShape shape, double[] q, double[] k, double[] v, double[] dOut,
        double scale, AttendedKeys attendedKeys)
    {
        int d = shape.HeadDim;
        var dq = new double[q.Length];
        var dk = new double[k.Length];
        var dv = new double[v.Length];
        foreach (SequenceSpan sequence in SequenceSpan.All(shape))
        {
            for (int t = 0; t < sequence.LenQ; t++)
            {
                int row = sequence.QStart + t;
                for (int h = 0; h < shape.Heads; h++)
                {
                    IReadOnlyList<int> keys = attendedKeys(sequence, t, h);
                    int kvHead = shape.KvHeadOf(h);
                    int qOffset = TensorLayout.Q(shape, row, h);
                    (double[] probabilities, _) = Probabilities(shape, q, k, scale, sequence, row, h, keys);

                    var dProbabilities = new double[keys.Count];
                    double rowDelta = 0;
                    for (int j = 0; j < keys.Count; j++)
                    {
                        int vOffset = TensorLayout.Kv(shape, sequence.KStart + keys[j], kvHead);
                        dProbabilities[j] = TensorLayout.Dot(dOut, qOffset, v, vOffset, d);
                        rowDelta += probabilities[j] * dProbabilities[j];
                    }

                    for (int j = 0; j < keys.Count; j++)
                    {
                        int kvOffset = TensorLayout.Kv(shape, sequence.KStart + keys[j], kvHead);
                        double dScore = probabilities[j] * (dProbabilities[j] - rowDelta);
                        for (int c = 0; c < d; c++)
                        {
                            dq[qOffset + c] += scale * dScore * k[kvOffset + c];
                            dk[kvOffset + c] += scale * dScore * q[qOffset + c];
                            dv[kvOffset + c] += probabilities[j] * dOut[qOffset + c];
                        }
                    }
                }
            }
        }

        return new AttentionGradients(dq, dk, dv);
    }

    /// <summary>Softmax probabilities of one row over <paramref name="keys"/> and the row's LSE,
    /// computed max-subtracted so large scores do not overflow.</summary>
    private static (double[] Probabilities, double Lse) Probabilities(AttentionShape shape, double[] q, double[] k,
        double scale, SequenceSpan sequence, int row, int head, IReadOnlyList<int> keys)
    {
        var probabilities = new double[keys.Count];
        if (keys.Count == 0)
        {
            return (probabilities, double.PositiveInfinity);
        }

        int kvHead = shape.KvHeadOf(head);
        int qOffset = TensorLayout.Q(shape, row, head);
        var scores = new double[keys.Count];
        double rowMax = double.NegativeInfinity;
        for (int j = 0; j < keys.Count; j++)
        {
            int kOffset = TensorLayout.Kv(shape, sequence.KStart + keys[j], kvHead);
            scores[j] = scale * TensorLayout.Dot(q, qOffset, k, kOffset, shape.HeadDim);
            rowMax = Math.Max(rowMax, scores[j]);
        }

        double rowSum = 0;
        for (int j = 0; j < keys.Count; j++)
        {
            rowSum += Math.Exp(scores[j] - rowMax);
        }

        double lse = rowMax + Math.Log(rowSum);
        for (int j = 0; j < keys.Count; j++)
        {
            probabilities[j] = Math.Exp(scores[j] - lse);
        }

        return (probabilities, lse);
    }
}
