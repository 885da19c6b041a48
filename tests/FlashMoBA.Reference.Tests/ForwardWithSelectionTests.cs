using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>Attention over an explicit selection: −1 slots are skipped, duplicate blocks count once, the
/// own block is not forced, and causal mode drops keys after the row's position.</summary>
public sealed class ForwardWithSelectionTests
{
    private const int BlockSize = 3;           // 10 keys -> blocks {0..2},{3..5},{6..8},{9}
    private const int TopK = 4;
    private const int HeadDim = 2;
    private const double Scale = 0.9;
    private const double Tolerance = 1e-14;    // float64 with a handful of terms: rounding only

    private static readonly AttentionShape Shape = AttentionShape.FromLengths([10], 1, 1, HeadDim);

    public static TheoryData<bool, int, int[], int[]> Cases => new()
    {
        // causal, row, selection (4 slots), keys the row must attend to
        { true, 7, [2, 2, -1, 0], [0, 1, 2, 6, 7] },          // duplicate own block, −1 in the middle
        { true, 7, [-1, 0, 0, 0], [0, 1, 2] },                // own block not forced when not listed
        { true, 4, [3, 2, 1, -1], [3, 4] },                   // future blocks dropped, own block cut at p
        { true, 9, [3, 1, 3, 1], [3, 4, 5, 9] },              // partial last block
        { true, 5, [-1, -1, -1, -1], [] },                    // nothing selected: output 0, LSE +inf
        { false, 4, [3, 2, 2, -1], [6, 7, 8, 9] },            // non-causal keeps keys after the row
        { false, 0, [1, -1, 1, 0], [0, 1, 2, 3, 4, 5] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardWithSelection_AttendsToTheUnionOfListedBlocks(bool causal, int row, int[] rowSelection,
        int[] expectedKeys)
    {
        (double[] q, double[] k, double[] v, _) = RandomTensors.Attention(Shape, seed: 21);
        int[] selection = SelectionWithRow(row, rowSelection);

        AttentionOutput result = MobaReference.ForwardWithSelection(Shape, q, k, v, BlockSize, selection, TopK,
            causal, Scale);

        double[] actualOutput = FirstPrinciples.Row(result.Output, row, HeadDim);
        if (expectedKeys.Length == 0)
        {
            Assert.Equal([0, 0], actualOutput);
            Assert.Equal(double.PositiveInfinity, result.Lse[row]);
            return;
        }

        (double[] expectedOutput, double expectedLse) = FirstPrinciples.Attend(
            FirstPrinciples.Row(q, row, HeadDim),
            expectedKeys.Select(j => FirstPrinciples.Row(k, j, HeadDim)).ToArray(),
            expectedKeys.Select(j => FirstPrinciples.Row(v, j, HeadDim)).ToArray(),
            Scale);
        AssertNumeric.AllClose(expectedOutput, actualOutput, Tolerance, "output");
        AssertNumeric.AllClose([expectedLse], [result.Lse[row]], Tolerance, "LSE");
    }

    [Fact]
    public void ForwardWithSelection_DuplicatesAndPaddingPositions_DoNotMatter()
    {
        (double[] q, double[] k, double[] v, double[] dOut) = RandomTensors.Attention(Shape, seed: 22);
        int[] plain = SelectionWithRow(8, [2, 0, -1, -1]);
        int[] shuffled = SelectionWithRow(8, [0, -1, 2, 0]);

        AttentionOutput expected = MobaReference.ForwardWithSelection(Shape, q, k, v, BlockSize, plain, TopK, true, Scale);
        AttentionOutput actual = MobaReference.ForwardWithSelection(Shape, q, k, v, BlockSize, shuffled, TopK, true, Scale);
        AttentionGradients expectedGradients =
            MobaReference.BackwardWithSelection(Shape, q, k, v, dOut, BlockSize, plain, TopK, true, Scale);
        AttentionGradients actualGradients =
            MobaReference.BackwardWithSelection(Shape, q, k, v, dOut, BlockSize, shuffled, TopK, true, Scale);

        AssertNumeric.Identical(expected.Output, actual.Output, "output");
        AssertNumeric.Identical(expected.Lse, actual.Lse, "LSE");
        AssertNumeric.Identical(expectedGradients.DQ, actualGradients.DQ, "dQ");
        AssertNumeric.Identical(expectedGradients.DK, actualGradients.DK, "dK");
        AssertNumeric.Identical(expectedGradients.DV, actualGradients.DV, "dV");
    }

    /// <summary>Every row selects block 0 only, except <paramref name="row"/>, which gets <paramref name="rowSelection"/>.</summary>
    private static int[] SelectionWithRow(int row, int[] rowSelection)
    {
        var selection = new int[10 * TopK];
        Array.Fill(selection, -1);
        for (int t = 0; t < 10; t++)
        {
            selection[t * TopK] = 0;
        }

        rowSelection.CopyTo(selection, row * TopK);
        return selection;
    }
}
