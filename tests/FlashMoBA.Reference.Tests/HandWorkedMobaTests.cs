using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>
/// One sequence, N = 6, B = 2 (three blocks), topK = 2, d = 2, one head. Keys are chosen so the centroids
/// are the axis vectors c0 = (1, 0), c1 = (0, 1), c2 = (−1, 0) and the gate scores can be read off q.
/// </summary>
public sealed class HandWorkedMobaTests
{
    private const int BlockSize = 2;
    private const int TopK = 2;
    private const int HeadDim = 2;
    private const double Tolerance = 1e-14;    // float64 with a handful of terms: rounding only

    private static readonly double[] Keys =
    [
        2, 0,   0, 0,    // block 0: mean (1, 0)
        0, 2,   0, 0,    // block 1: mean (0, 1)
        -1, 0,  -1, 0,   // block 2: mean (-1, 0)
    ];

    private static readonly double[] Values = [0.5, -1, 1, 2, -0.25, 0.75, 3, -2, 1.5, 0.5, -1, 1];

    private static readonly double[] Queries =
    [
        0.2, 0.1,     // row 0: scores (0.2, 0.1, -0.2)
        1, 1,         // row 1: scores (1, 1, -1): tie of blocks 0 and 1
        -0.5, 0.4,    // row 2: scores (-0.5, 0.4, 0.5)
        0.3, -0.2,    // row 3: scores (0.3, -0.2, -0.3)
        0, 1,         // row 4: scores (0, 1, 0): tie of blocks 0 and 2
        1, 0.5,       // row 5: scores (1, 0.5, -1)
    ];

    private static readonly AttentionShape Shape = AttentionShape.FromLengths([6], 1, 1, HeadDim);

    [Fact]
    public void Centroids_AreBlockMeans()
    {
        double[] centroids = BlockRouting.Centroids(Shape, Keys, BlockSize);

        Assert.Equal([1, 0, 0, 1, -1, 0], centroids);
    }

    [Fact]
    public void SelectBlocks_Causal_ForcesOwnBlockThenBestEarlierBlock()
    {
        int[] selection = BlockRouting.SelectBlocks(Shape, Queries, Keys, BlockSize, TopK, causal: true);

        // Rows 0-1 own block 0 and have no earlier block; rows 2-3 own block 1 and may only add block 0;
        // row 4 owns block 2 and prefers block 1 (score 1 > 0); row 5 owns block 2 (its own score -1 is
        // the lowest, yet it is forced) and prefers block 0 (1 > 0.5).
        Assert.Equal([0, -1, 0, -1, 1, 0, 1, 0, 2, 1, 2, 0], selection);
    }

    [Fact]
    public void SelectBlocks_NonCausal_TakesTopTwoWithTiesToHigherIndex()
    {
        int[] selection = BlockRouting.SelectBlocks(Shape, Queries, Keys, BlockSize, TopK, causal: false);

        // Row 1: blocks 0 and 1 tie at 1 -> 1 first. Row 4: block 1 (1), then 0 and 2 tie at 0 -> 2.
        Assert.Equal([0, 1, 1, 0, 2, 1, 0, 1, 1, 2, 0, 1], selection);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_MatchesSoftmaxOverTheSelectedKeys(bool causal)
    {
        int[][] attendedKeys = causal
            ? [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [2, 3, 4], [0, 1, 4, 5]]
            : [[0, 1, 2, 3], [0, 1, 2, 3], [2, 3, 4, 5], [0, 1, 2, 3], [2, 3, 4, 5], [0, 1, 2, 3]];
        double scale = 1 / Math.Sqrt(HeadDim);

        AttentionOutput result = MobaReference.Forward(Shape, Queries, Keys, Values, BlockSize, TopK, causal);

        for (int t = 0; t < 6; t++)
        {
            (double[] expectedOutput, double expectedLse) = FirstPrinciples.Attend(
                FirstPrinciples.Row(Queries, t, HeadDim),
                attendedKeys[t].Select(j => FirstPrinciples.Row(Keys, j, HeadDim)).ToArray(),
                attendedKeys[t].Select(j => FirstPrinciples.Row(Values, j, HeadDim)).ToArray(),
                scale);
            AssertNumeric.AllClose(expectedOutput, FirstPrinciples.Row(result.Output, t, HeadDim), Tolerance,
                $"output row {t}");
            AssertNumeric.AllClose([expectedLse], [result.Lse[t]], Tolerance, $"LSE row {t}");
        }
    }

    [Fact]
    public void Forward_FewerQueriesThanKeys_AlignsBottomRight()
    {
        // Nq = 2, Nk = 6: query rows 0 and 1 sit at key positions 4 and 5 and behave like rows 4, 5 above.
        var shape = AttentionShape.FromLengths([2], [6], 1, 1, HeadDim);
        double[] queries = Queries[(4 * HeadDim)..];
        int[][] attendedKeys = [[2, 3, 4], [0, 1, 4, 5]];

        int[] selection = BlockRouting.SelectBlocks(shape, queries, Keys, BlockSize, TopK, causal: true);
        AttentionOutput result = MobaReference.Forward(shape, queries, Keys, Values, BlockSize, TopK, causal: true);

        Assert.Equal([2, 1, 2, 0], selection);
        for (int t = 0; t < 2; t++)
        {
            (double[] expectedOutput, double expectedLse) = FirstPrinciples.Attend(
                FirstPrinciples.Row(queries, t, HeadDim),
                attendedKeys[t].Select(j => FirstPrinciples.Row(Keys, j, HeadDim)).ToArray(),
                attendedKeys[t].Select(j => FirstPrinciples.Row(Values, j, HeadDim)).ToArray(),
                1 / Math.Sqrt(HeadDim));
            AssertNumeric.AllClose(expectedOutput, FirstPrinciples.Row(result.Output, t, HeadDim), Tolerance,
                $"output row {t}");
            AssertNumeric.AllClose([expectedLse], [result.Lse[t]], Tolerance, $"LSE row {t}");
        }
    }

    [Fact]
    public void Forward_MoreQueriesThanKeys_RowsBeforeTheFirstKeyAttendToNothing()
    {
        // Nq = 4, Nk = 2: rows 0 and 1 sit at positions -2 and -1; rows 2 and 3 at keys 0 and 1.
        var shape = AttentionShape.FromLengths([4], [2], 1, 1, HeadDim);
        double[] queries = Queries[..(4 * HeadDim)];
        double[] keys = Keys[..(2 * HeadDim)];
        double[] values = Values[..(2 * HeadDim)];

        int[] selection = BlockRouting.SelectBlocks(shape, queries, keys, BlockSize, TopK, causal: true);
        AttentionOutput result = MobaReference.Forward(shape, queries, keys, values, BlockSize, TopK, causal: true);

        Assert.Equal([-1, -1, -1, -1, 0, -1, 0, -1], selection);
        Assert.Equal([0, 0, 0, 0], result.Output[..(2 * HeadDim)]);
        Assert.Equal(double.PositiveInfinity, result.Lse[0]);
        Assert.Equal(double.PositiveInfinity, result.Lse[1]);
        (double[] lastOutput, double lastLse) = FirstPrinciples.Attend(
            FirstPrinciples.Row(queries, 3, HeadDim),
            [FirstPrinciples.Row(keys, 0, HeadDim), FirstPrinciples.Row(keys, 1, HeadDim)],
            [FirstPrinciples.Row(values, 0, HeadDim), FirstPrinciples.Row(values, 1, HeadDim)],
            1 / Math.Sqrt(HeadDim));
        AssertNumeric.AllClose(lastOutput, FirstPrinciples.Row(result.Output, 3, HeadDim), Tolerance, "output row 3");
        AssertNumeric.AllClose([lastLse], [result.Lse[3]], Tolerance, "LSE row 3");
    }
}
