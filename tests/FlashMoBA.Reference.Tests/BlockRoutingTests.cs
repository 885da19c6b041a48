using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>Key blocks, centroids, gate scores and the top-k selection rules of DESIGN.md §3 steps 1–3.</summary>
public sealed class BlockRoutingTests
{
    [Fact]
    public void CuBlocks_CountsCeilingOfKeysOverBlockSizePerSequence()
    {
        // Lengths 5, 0, 3, 1, 8 with B = 4 -> 2, 0, 1, 1, 2 blocks.
        Assert.Equal([0, 2, 2, 3, 4, 6], BlockRouting.CuBlocks([0, 5, 5, 8, 9, 17], 4));
    }

    [Fact]
    public void Centroids_PartialLastBlockDividesByItsRealCount_AndBlocksStayInsideSequences()
    {
        // Two sequences of 5 and 3 keys, B = 2 -> blocks {0,1},{2,3},{4} | {5,6},{7}; Hk = 2, d = 2.
        var shape = AttentionShape.FromLengths([1, 1], [5, 3], 2, 2, 2);
        double[] k = RandomTensors.Uniform(new Random(5), 8 * 2 * 2);
        int[][] blockKeys = [[0, 1], [2, 3], [4], [5, 6], [7]];

        double[] centroids = BlockRouting.Centroids(shape, k, 2);

        Assert.Equal(5 * 2 * 2, centroids.Length);
        for (int block = 0; block < blockKeys.Length; block++)
        {
            for (int g = 0; g < 2; g++)
            {
                for (int c = 0; c < 2; c++)
                {
                    double expected = blockKeys[block].Sum(key => k[(key * 2 + g) * 2 + c]) / blockKeys[block].Length;
                    Assert.Equal(expected, centroids[(block * 2 + g) * 2 + c], 15);
                }
            }
        }
    }

    [Fact]
    public void GateScores_AreRawDotProductsWithTheGroupCentroid_PaddedWithNaN()
    {
        // Sequence 0 has 3 blocks, sequence 1 has 1: row of sequence 1 gets NaN for blocks 1 and 2.
        var shape = AttentionShape.FromLengths([2, 1], [5, 2], 4, 2, 3);
        var random = new Random(6);
        double[] q = RandomTensors.Uniform(random, 3 * 4 * 3), k = RandomTensors.Uniform(random, 7 * 2 * 3);
        double[] centroids = BlockRouting.Centroids(shape, k, 2);
        int[] firstBlock = [0, 0, 3];

        double[] scores = BlockRouting.GateScores(shape, q, k, 2);

        Assert.Equal(3 * 4 * 3, scores.Length);
        for (int row = 0; row < 3; row++)
        {
            for (int h = 0; h < 4; h++)
            {
                int blockCount = row < 2 ? 3 : 1;
                for (int j = 0; j < 3; j++)
                {
                    double actual = scores[(row * 4 + h) * 3 + j];
                    if (j >= blockCount)
                    {
                        Assert.True(double.IsNaN(actual), $"row {row} head {h} block {j} should be NaN");
                        continue;
                    }

                    int centroid = ((firstBlock[row] + j) * 2 + h / 2) * 3;
                    double expected = Enumerable.Range(0, 3).Sum(c => q[(row * 4 + h) * 3 + c] * centroids[centroid + c]);
                    Assert.Equal(expected, actual, 14);
                }
            }
        }
    }

    [Fact]
    public void SelectBlocks_TiedScores_PreferTheHigherBlockIndex()
    {
        // Eight keys, B = 2: every block holds the same two keys, so every gate score ties exactly.
        var shape = AttentionShape.FromLengths([8], 1, 1, 2);
        double[] k = [0.3, -0.7, 0.9, 0.1, 0.3, -0.7, 0.9, 0.1, 0.3, -0.7, 0.9, 0.1, 0.3, -0.7, 0.9, 0.1];
        double[] q = RandomTensors.Uniform(new Random(7), 8 * 2);

        int[] causalTop2 = BlockRouting.SelectBlocks(shape, q, k, 2, 2, causal: true);
        int[] causalTop3 = BlockRouting.SelectBlocks(shape, q, k, 2, 3, causal: true);
        int[] nonCausalTop2 = BlockRouting.SelectBlocks(shape, q, k, 2, 2, causal: false);

        Assert.Equal([3, 2], causalTop2[(7 * 2)..]);       // row 7 owns block 3; blocks 0..2 tie -> 2
        Assert.Equal([2, 1], causalTop2[(5 * 2)..(6 * 2)]);  // row 5 owns block 2; blocks 0, 1 tie -> 1
        Assert.Equal([3, 2, 1], causalTop3[(7 * 3)..]);
        for (int row = 0; row < 8; row++)
        {
            Assert.Equal([3, 2], nonCausalTop2[(row * 2)..(row * 2 + 2)]);
        }
    }

    [Theory]
    [InlineData(2, 1, 4, 2, 3)]
    [InlineData(3, 2, 4, 2, 3)]
    [InlineData(4, 3, 2, 1, 4)]
    [InlineData(2, 6, 2, 2, 2)]
    public void SelectBlocks_Causal_OwnBlockFirstNoFutureBlockBestEarlierBlocksInOrder(
        int blockSize, int topK, int heads, int headsKv, int headDim)
    {
        AttentionShape shape = TestShapes.Varlen(heads, headsKv, headDim);
        (double[] q, double[] k, _, _) = RandomTensors.Attention(shape, seed: blockSize * 31 + topK);
        double[] scores = BlockRouting.GateScores(shape, q, k, blockSize);
        int maxBlocks = scores.Length / (shape.TotalQ * heads);

        int[] selection = BlockRouting.SelectBlocks(shape, q, k, blockSize, topK, causal: true);

        ForEachRow(shape, (row, localRow, lenQ, lenK) =>
        {
            int position = localRow + lenK - lenQ;
            for (int h = 0; h < heads; h++)
            {
                int[] slots = selection[((row * heads + h) * topK)..((row * heads + h + 1) * topK)];
                if (position < 0)
                {
                    Assert.All(slots, slot => Assert.Equal(-1, slot));
                    continue;
                }

                int ownBlock = position / blockSize;
                int chosen = Math.Min(topK, ownBlock + 1);
                Assert.Equal(ownBlock, slots[0]);
                Assert.All(slots[chosen..], slot => Assert.Equal(-1, slot));
                Assert.All(slots[1..chosen], slot => Assert.InRange(slot, 0, ownBlock - 1));
                Assert.Equal(chosen, slots.Where(slot => slot >= 0).Distinct().Count());
                AssertRankedBest(scores, (row * heads + h) * maxBlocks, slots[1..chosen],
                    Enumerable.Range(0, ownBlock));
            }
        });
    }

    [Theory]
    [InlineData(2, 3, 4, 2)]
    [InlineData(3, 1, 2, 1)]
    [InlineData(3, 10, 2, 2)]
    public void SelectBlocks_NonCausal_TopKOfAllBlocksByDescendingScore(int blockSize, int topK, int heads,
        int headsKv)
    {
        AttentionShape shape = TestShapes.Varlen(heads, headsKv, 3);
        (double[] q, double[] k, _, _) = RandomTensors.Attention(shape, seed: 100 + blockSize * 7 + topK);
        double[] scores = BlockRouting.GateScores(shape, q, k, blockSize);
        int maxBlocks = scores.Length / (shape.TotalQ * heads);

        int[] selection = BlockRouting.SelectBlocks(shape, q, k, blockSize, topK, causal: false);

        ForEachRow(shape, (row, _, _, lenK) =>
        {
            int blockCount = (lenK + blockSize - 1) / blockSize;
            int chosen = Math.Min(topK, blockCount);
            for (int h = 0; h < heads; h++)
            {
                int[] slots = selection[((row * heads + h) * topK)..((row * heads + h + 1) * topK)];
                Assert.All(slots[chosen..], slot => Assert.Equal(-1, slot));
                Assert.All(slots[..chosen], slot => Assert.InRange(slot, 0, blockCount - 1));
                AssertRankedBest(scores, (row * heads + h) * maxBlocks, slots[..chosen],
                    Enumerable.Range(0, blockCount));
            }
        });
    }

    /// <summary>
    /// <paramref name="chosen"/> is in strictly descending (score, index) order and no candidate left out
    /// outranks the last chosen one. (How many are chosen is checked by the caller.)
    /// </summary>
    private static void AssertRankedBest(double[] scores, int offset, int[] chosen, IEnumerable<int> candidates)
    {
        bool Outranks(int a, int b) =>
            scores[offset + a] > scores[offset + b] || scores[offset + a] == scores[offset + b] && a > b;

        for (int i = 1; i < chosen.Length; i++)
        {
            Assert.True(Outranks(chosen[i - 1], chosen[i]), $"slot {i - 1} ({chosen[i - 1]}) should outrank {chosen[i]}");
        }

        if (chosen.Length == 0)
        {
            return;
        }

        foreach (int left in candidates.Except(chosen))
        {
            Assert.True(Outranks(chosen[^1], left), $"block {left} was left out but outranks chosen block {chosen[^1]}");
        }
    }

    private static void ForEachRow(AttentionShape shape, Action<int, int, int, int> check)
    {
        for (int b = 0; b < shape.Batch; b++)
        {
            int lenQ = shape.CuSeqlensQ[b + 1] - shape.CuSeqlensQ[b];
            int lenK = shape.CuSeqlensK[b + 1] - shape.CuSeqlensK[b];
            for (int t = 0; t < lenQ; t++)
            {
                check(shape.CuSeqlensQ[b] + t, t, lenQ, lenK);
            }
        }
    }
}
