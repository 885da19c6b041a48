using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>Dense attention on cases small enough to write the attended keys down by hand.</summary>
public sealed class DenseReferenceTests
{
    private const double Tolerance = 1e-14;    // float64 with a handful of terms: rounding only

    // One head, d = 1, three keys; values scalar.
    private static readonly double[] Queries = [1, 2, -1];
    private static readonly double[] Keys = [0.5, -1, 2];
    private static readonly double[] Values = [1, 3, -2];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_SquareSequence_MatchesSoftmaxOverVisibleKeys(bool causal)
    {
        var shape = AttentionShape.FromLengths([3], 1, 1, 1);
        const double scale = 0.7;
        int[][] visible = causal ? [[0], [0, 1], [0, 1, 2]] : [[0, 1, 2], [0, 1, 2], [0, 1, 2]];

        AttentionOutput result = DenseReference.Forward(shape, Queries, Keys, Values, causal, scale);

        AssertRows(result, Queries, visible, scale, 0);
    }

    [Fact]
    public void Forward_DefaultScale_IsOneOverSqrtHeadDim()
    {
        var shape = AttentionShape.FromLengths([3], 1, 1, 4);
        var random = new Random(11);
        double[] q = RandomTensors.Uniform(random, 12), k = RandomTensors.Uniform(random, 12);
        double[] v = RandomTensors.Uniform(random, 12);

        AttentionOutput byDefault = DenseReference.Forward(shape, q, k, v, causal: true);
        AttentionOutput explicitHalf = DenseReference.Forward(shape, q, k, v, causal: true, softmaxScale: 0.5);

        AssertNumeric.Identical(explicitHalf.Output, byDefault.Output, "output");
        AssertNumeric.Identical(explicitHalf.Lse, byDefault.Lse, "LSE");
    }

    [Fact]
    public void Forward_CausalFewerQueriesThanKeys_AlignsBottomRight()
    {
        // Nq = 2, Nk = 3: query rows sit at key positions 1 and 2.
        var shape = AttentionShape.FromLengths([2], [3], 1, 1, 1);
        double[] queries = [2, -1];

        AttentionOutput result = DenseReference.Forward(shape, queries, Keys, Values, causal: true, softmaxScale: 1);

        AssertRows(result, queries, [[0, 1], [0, 1, 2]], 1, 0);
    }

    [Fact]
    public void Forward_CausalMoreQueriesThanKeys_LeadingRowsAttendToNothing()
    {
        // Nq = 3, Nk = 1: rows 0 and 1 sit at positions -2 and -1.
        var shape = AttentionShape.FromLengths([3], [1], 1, 1, 1);

        AttentionOutput result = DenseReference.Forward(shape, Queries, Keys[..1], Values[..1], causal: true, 1);

        Assert.Equal([0, 0], result.Output[..2]);
        Assert.Equal([double.PositiveInfinity, double.PositiveInfinity], result.Lse[..2]);
        AssertRows(result, Queries, [[], [], [0]], 1, 2);
    }

    [Fact]
    public void Forward_Varlen_SequencesDoNotSeeEachOther()
    {
        // Two sequences [q0, q1 | q2] over keys [k0 | k1, k2]: non-causal, each row sees only its own keys.
        var shape = AttentionShape.FromLengths([2, 1], [1, 2], 1, 1, 1);

        AttentionOutput result = DenseReference.Forward(shape, Queries, Keys, Values, causal: false, 1);

        AssertRows(result, Queries, [[0], [0], [1, 2]], 1, 0);
    }

    [Fact]
    public void Backward_RowWithNoKeys_HasZeroGradients()
    {
        var shape = AttentionShape.FromLengths([2], [1], 1, 1, 1);

        AttentionGradients gradients = DenseReference.Backward(shape, [1, 2], [0.5], [3], [1, 1], causal: true, 1);

        // Row 0 (p = -1) contributes nothing; row 1 attends to one key with probability 1: dv = dO, dq = dk = 0.
        Assert.Equal([0, 0], gradients.DQ);
        Assert.Equal([0.0], gradients.DK);
        Assert.Equal([1.0], gradients.DV);
    }

    /// <summary>Checks rows from <paramref name="firstRow"/> on against the textbook formula over the listed
    /// keys (d = 1, one head).</summary>
    private static void AssertRows(AttentionOutput result, double[] queries, int[][] visible, double scale,
        int firstRow)
    {
        for (int t = firstRow; t < visible.Length; t++)
        {
            (double[] expectedOutput, double expectedLse) = FirstPrinciples.Attend(
                [queries[t]],
                visible[t].Select(j => new[] { Keys[j] }).ToArray(),
                visible[t].Select(j => new[] { Values[j] }).ToArray(),
                scale);
            AssertNumeric.AllClose(expectedOutput, [result.Output[t]], Tolerance, $"output row {t}");
            AssertNumeric.AllClose([expectedLse], [result.Lse[t]], Tolerance, $"LSE row {t}");
        }
    }
}
