namespace FlashMoBA.Reference;

/// <summary>MoBA routing in float64 (DESIGN.md §3 steps 1–3): key blocks, centroids, gate scores, top-k.</summary>
/// <remarks>
/// Key block <c>j</c> of a sequence holds its keys <c>[jB, min((j+1)B, Nk))</c>; blocks never cross sequence
/// boundaries and are numbered batch-wide by <see cref="CuBlocks"/>. Gate score <c>s_j = q_t · c_j</c> is a raw
/// dot product (no softmax scale) between query head <c>h</c> and the centroid of KV head <c>h / (H/Hk)</c>.
/// Arguments are checked first; a bad one raises <see cref="ArgumentException"/> naming it.
/// </remarks>
public static class BlockRouting
{
    /// <summary>Prefix sums of per-sequence key-block counts <c>ceil(Nk / blockSize)</c>, <c>[batch+1]</c>.</summary>
    public static int[] CuBlocks(int[] cuSeqlensK, int blockSize)
    {
        ArgumentRules.RequireCuSeqlens(cuSeqlensK, nameof(cuSeqlensK));
        ArgumentRules.RequirePositive(blockSize, nameof(blockSize));
        var cuBlocks = new int[cuSeqlensK.Length];
        for (int b = 0; b + 1 < cuSeqlensK.Length; b++)
        {
            cuBlocks[b + 1] = cuBlocks[b] + BlockCount(cuSeqlensK[b + 1] - cuSeqlensK[b], blockSize);
        }

        return cuBlocks;
    }

    /// <summary>Block centroids <c>[totalBlocks, HeadsKv, HeadDim]</c>, blocks numbered by <see cref="CuBlocks"/>;
    /// a partial last block is divided by its real key count.</summary>
    public static double[] Centroids(AttentionShape shape, double[] k, int blockSize)
    {
        ValidateKeys(shape, k, blockSize);
        return CentroidsOfValidated(shape, k, blockSize);
    }

    /// <summary>
    /// Gate scores <c>q_t · c_j</c> laid out <c>[TotalQ, Heads, MaxBlocks]</c>, where <c>MaxBlocks</c> is the
    /// largest per-sequence block count; entry <c>j</c> of a row is its sequence-local block <c>j</c>, and
    /// entries past the row's own sequence's block count are NaN. Every block is scored, also future ones:
    /// causal masking is the selection's job.
    /// </summary>
    public static double[] GateScores(AttentionShape shape, double[] q, double[] k, int blockSize)
    {
        ValidateKeys(shape, k, blockSize);
        ArgumentRules.RequireLength(q, TensorLayout.QLength(shape), nameof(q), "[TotalQ, Heads, HeadDim]");
        return GateScoresOfValidated(shape, q, k, blockSize, out _);
    }

    /// <summary>
    /// Selected key blocks <c>[TotalQ, Heads, topK]</c> as sequence-local block indices, −1 padded.
    /// Causal: slot 0 is the own block <c>p / blockSize</c> (<c>p = t + Nk − Nq</c>), then the others among
    /// earlier blocks by descending score; rows with p &lt; 0 are all −1. Non-causal: the top <c>topK</c>
    /// of all blocks by descending score. Ties go to the higher block index.
    /// </summary>
    public static int[] SelectBlocks(AttentionShape shape, double[] q, double[] k, int blockSize, int topK, bool causal)
    {
        ValidateKeys(shape, k, blockSize);
        ArgumentRules.RequireLength(q, TensorLayout.QLength(shape), nameof(q), "[TotalQ, Heads, HeadDim]");
        ArgumentRules.RequirePositive(topK, nameof(topK));
        return SelectBlocksOfValidated(shape, q, k, blockSize, topK, causal);
    }

    /// <summary>Number of key blocks of a sequence of <paramref name="keyCount"/> keys.</summary>
    internal static int BlockCount(int keyCount, int blockSize) => keyCount == 0 ? 0 : (keyCount - 1) / blockSize + 1;

    /// <summary><see cref="SelectBlocks"/> without argument checks, for callers that already made them.</summary>
    internal static int[] SelectBlocksOfValidated(AttentionShape shape, double[] q, double[] k, int blockSize,
        int topK, bool causal)
    {
        double[] scores = GateScoresOfValidated(shape, q, k, blockSize, out int maxBlocks);
        var selection = new int[(long)shape.TotalQ * shape.Heads * topK];
        Array.Fill(selection, -1);
        foreach (SequenceSpan sequence in SequenceSpan.All(shape))
        {
            int blockCount = BlockCount(sequence.LenK, blockSize);
            for (int t = 0; t < sequence.LenQ; t++)
            {
                int row = sequence.QStart + t;
                int position = sequence.CausalPosition(t);
                if (causal && position < 0)
                {
                    continue;
                }

                for (int h = 0; h < shape.Heads; h++)
                {
                    int scoreOffset = (row * shape.Heads + h) * maxBlocks;
                    int slot = TensorLayout.Selection(shape, row, h, topK);
                    int candidateCount = blockCount;
                    int slotsLeft = topK;
                    if (causal)
                    {
                        // The own block is forced into slot 0 and counts toward topK; the remaining
                        // slots compete among strictly earlier blocks only.
                        int ownBlock = position / blockSize;
                        selection[slot++] = ownBlock;
                        slotsLeft--;
                        candidateCount = ownBlock;
                    }

                    foreach (int block in RankByScore(scores, scoreOffset, candidateCount).Take(slotsLeft))
                    {
                        selection[slot++] = block;
                    }
                }
            }
        }

        return selection;
    }

    /// <summary>Blocks <c>0..candidateCount−1</c> ordered by descending score, ties to the higher index.</summary>
    private static IEnumerable<int> RankByScore(double[] scores, int scoreOffset, int candidateCount) =>
        Enumerable.Range(0, candidateCount)
            .OrderByDescending(block => scores[scoreOffset + block])
            .ThenByDescending(block => block);

    private static double[] GateScoresOfValidated(AttentionShape shape, double[] q, double[] k, int blockSize,
        out int maxBlocks)
    {
        double[] centroids = CentroidsOfValidated(shape, k, blockSize);
        int[] cuBlocks = CuBlocks(shape.CuSeqlensK, blockSize);
        maxBlocks = 0;
        for (int b = 0; b < shape.Batch; b++)
        {
            maxBlocks = Math.Max(maxBlocks, cuBlocks[b + 1] - cuBlocks[b]);
        }

        var scores = new double[(long)shape.TotalQ * shape.Heads * maxBlocks];
        Array.Fill(scores, double.NaN);
        foreach (SequenceSpan sequence in SequenceSpan.All(shape))
        {
            int blockCount = cuBlocks[sequence.Index + 1] - cuBlocks[sequence.Index];
            for (int t = 0; t < sequence.LenQ; t++)
            {
                int row = sequence.QStart + t;
                for (int h = 0; h < shape.Heads; h++)
                {
                    for (int j = 0; j < blockCount; j++)
                    {
                        int centroidOffset = ((cuBlocks[sequence.Index] + j) * shape.HeadsKv + shape.KvHeadOf(h))
                            * shape.HeadDim;
                        scores[(row * shape.Heads + h) * maxBlocks + j] = TensorLayout.Dot(
                            q, TensorLayout.Q(shape, row, h), centroids, centroidOffset, shape.HeadDim);
                    }
                }
            }
        }

        return scores;
    }

    private static double[] CentroidsOfValidated(AttentionShape shape, double[] k, int blockSize)
    {
        int d = shape.HeadDim;
        int[] cuBlocks = CuBlocks(shape.CuSeqlensK, blockSize);
        var centroids = new double[(long)cuBlocks[^1] * shape.HeadsKv * d];
        foreach (SequenceSpan sequence in SequenceSpan.All(shape))
        {
            int blockCount = cuBlocks[sequence.Index + 1] - cuBlocks[sequence.Index];
            for (int j = 0; j < blockCount; j++)
            {
                int firstKey = j * blockSize;
                int keyCount = Math.Min(blockSize, sequence.LenK - firstKey);
                for (int kvHead = 0; kvHead < shape.HeadsKv; kvHead++)
                {
                    int centroidOffset = ((cuBlocks[sequence.Index] + j) * shape.HeadsKv + kvHead) * d;
                    for (int key = firstKey; key < firstKey + keyCount; key++)
                    {
                        int kOffset = TensorLayout.Kv(shape, sequence.KStart + key, kvHead);
                        for (int c = 0; c < d; c++)
                        {
                            centroids[centroidOffset + c] += k[kOffset + c];
                        }
                    }

                    for (int c = 0; c < d; c++)
                    {
                        centroids[centroidOffset + c] /= keyCount;
                    }
                }
            }
        }

        return centroids;
    }

    private static void ValidateKeys(AttentionShape shape, double[] k, int blockSize)
    {
        ArgumentRules.RequireValidShape(shape, nameof(shape));
        ArgumentRules.RequireLength(k, TensorLayout.KvLength(shape), nameof(k), "[TotalK, HeadsKv, HeadDim]");
        ArgumentRules.RequirePositive(blockSize, nameof(blockSize));
    }
}
