namespace FlashMoBA.Reference;

/// <summary>MoBA attention in float64 (DESIGN.md §3 steps 4–6).</summary>
/// <remarks>
/// A row attends to the union of its selected key blocks with one softmax; in causal mode keys after its
/// position <c>p = t + Nk − Nq</c> are removed, and a row with <c>p &lt; 0</c> (or with no keys left) gets
/// output 0 and LSE +∞. Routing is not differentiated: the backward holds the selection fixed.
/// Arguments are checked first; a bad one raises <see cref="ArgumentException"/> naming it.
/// </remarks>
public static class MobaReference
{
    /// <summary>Routes with <see cref="BlockRouting.SelectBlocks"/> and attends. <paramref name="softmaxScale"/> defaults to 1/√d.</summary>
    public static AttentionOutput Forward(AttentionShape shape, double[] q, double[] k, double[] v,
        int blockSize, int topK, bool causal, double? softmaxScale = null)
    {
        double scale = DenseReference.ValidateInputs(shape, q, k, v, softmaxScale);
        ValidateRouting(blockSize, topK);
        int[] topkIndex = BlockRouting.SelectBlocksOfValidated(shape, q, k, blockSize, topK, causal);
        return RowAttention.Forward(shape, q, k, v, scale, SelectedKeys(shape, blockSize, topkIndex, topK, causal));
    }

    /// <summary>Attention over a given selection <c>topkIndex [TotalQ, Heads, topK]</c> (−1 = unused slot;
    /// duplicates count once): one softmax over the union of the selected blocks, keys after p removed when causal.</summary>
    public static AttentionOutput ForwardWithSelection(AttentionShape shape, double[] q, double[] k, double[] v,
        int blockSize, int[] topkIndex, int topK, bool causal, double softmaxScale)
    {
        DenseReference.ValidateInputs(shape, q, k, v, null);
        ArgumentRules.RequireScale(softmaxScale, nameof(softmaxScale));
        ValidateRouting(blockSize, topK);
        ValidateSelection(shape, blockSize, topkIndex, topK);
        return RowAttention.Forward(shape, q, k, v, softmaxScale,
            SelectedKeys(shape, blockSize, topkIndex, topK, causal));
    }

    /// <summary>Gradients of <see cref="Forward"/> w.r.t. q, k, v (routing not differentiated).</summary>
    public static AttentionGradients Backward(AttentionShape shape, double[] q, double[] k, double[] v, double[] dOut,
        int blockSize, int topK, bool causal, double? softmaxScale = null)
    {
        double scale = DenseReference.ValidateInputs(shape, q, k, v, softmaxScale);
        ArgumentRules.RequireLength(dOut, TensorLayout.QLength(shape), nameof(dOut), "[TotalQ, Heads, HeadDim]");
        ValidateRouting(blockSize, topK);
        int[] topkIndex = BlockRouting.SelectBlocksOfValidated(shape, q, k, blockSize, topK, causal);
        return RowAttention.Backward(shape, q, k, v, dOut, scale,
            SelectedKeys(shape, blockSize, topkIndex, topK, causal));
    }

    /// <summary>Gradients of <see cref="ForwardWithSelection"/> w.r.t. q, k, v.</summary>
    public static AttentionGradients BackwardWithSelection(AttentionShape shape, double[] q, double[] k, double[] v,
        double[] dOut, int blockSize, int[] topkIndex, int topK, bool causal, double softmaxScale)
    {
        DenseReference.ValidateInputs(shape, q, k, v, null);
        ArgumentRules.RequireScale(softmaxScale, nameof(softmaxScale));
        ArgumentRules.RequireLength(dOut, TensorLayout.QLength(shape), nameof(dOut), "[TotalQ, Heads, HeadDim]");
        ValidateRouting(blockSize, topK);
        ValidateSelection(shape, blockSize, topkIndex, topK);
        return RowAttention.Backward(shape, q, k, v, dOut, softmaxScale,
            SelectedKeys(shape, blockSize, topkIndex, topK, causal));
    }

    /// <summary>The keys of a row: the union of its selected blocks (each block once, −1 slots skipped),
    /// ascending, with keys after the row's causal position removed when <paramref name="causal"/>.</summary>
    private static AttendedKeys SelectedKeys(AttentionShape shape, int blockSize, int[] topkIndex, int topK,
        bool causal) => (sequence, localRow, head) =>
    {
        int lastKey = causal ? Math.Min(sequence.CausalPosition(localRow), sequence.LenK - 1) : sequence.LenK - 1;
        int firstSlot = TensorLayout.Selection(shape, sequence.QStart + localRow, head, topK);
        var blocks = new SortedSet<int>();
        for (int slot = 0; slot < topK; slot++)
        {
            int block = topkIndex[firstSlot + slot];
            if (block >= 0)
            {
                blocks.Add(block);
            }
        }

        var keys = new List<int>();
        foreach (int block in blocks)
        {
            int blockEnd = Math.Min((block + 1) * blockSize - 1, lastKey);
            for (int key = block * blockSize; key <= blockEnd; key++)
            {
                keys.Add(key);
            }
        }

        return keys;
    };

    private static void ValidateRouting(int blockSize, int topK)
    {
        ArgumentRules.RequirePositive(blockSize, nameof(blockSize));
        ArgumentRules.RequirePositive(topK, nameof(topK));
    }

    /// <summary>Checks the selection's length and that every entry is −1 or a block of the row's own sequence.</summary>
    private static void ValidateSelection(AttentionShape shape, int blockSize, int[] topkIndex, int topK)
    {
        ArgumentRules.RequireLength(topkIndex, (long)shape.TotalQ * shape.Heads * topK, nameof(topkIndex),
            "[TotalQ, Heads, topK]");
        foreach (SequenceSpan sequence in SequenceSpan.All(shape))
        {
            int blockCount = BlockRouting.BlockCount(sequence.LenK, blockSize);
            int first = TensorLayout.Selection(shape, sequence.QStart, 0, topK);
            int end = TensorLayout.Selection(shape, sequence.QStart + sequence.LenQ, 0, topK);
            for (int i = first; i < end; i++)
            {
                if (topkIndex[i] < -1 || topkIndex[i] >= blockCount)
                {
                    throw new ArgumentException(
                        $"topkIndex[{i}] = {topkIndex[i]} must be -1 or a block of sequence {sequence.Index} "
                        + $"(0..{blockCount - 1}).", nameof(topkIndex));
                }
            }
        }
    }
}
