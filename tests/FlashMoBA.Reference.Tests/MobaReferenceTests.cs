using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>Properties of MoBA attention (DESIGN.md §3 steps 3–6) on seeded random varlen inputs.</summary>
public sealed class MobaReferenceTests
{
    private const double Tolerance = 1e-13;    // same math, different key order/summation: rounding only

    public static TheoryData<bool, int, int, int, int> AllBlocksCases => new()
    {
        // causal, blockSize, topK, heads, headsKv; topK >= blocks of the longest sequence (11 keys)
        { true, 3, 4, 2, 2 },
        { true, 2, 64, 4, 2 },
        { false, 3, 4, 4, 1 },
        { false, 4, 3, 2, 2 },
        { true, 11, 1, 2, 1 },
        { false, 16, 1, 2, 2 },
    };

    [Theory]
    [MemberData(nameof(AllBlocksCases))]
    public void Forward_TopKCoversAllBlocks_EqualsDense(bool causal, int blockSize, int topK, int heads, int headsKv)
    {
        foreach (AttentionShape shape in new[]
                 {
                     TestShapes.Varlen(heads, headsKv, 3), TestShapes.VarlenWithEmptySequences(heads, headsKv, 3),
                 })
        {
            (double[] q, double[] k, double[] v, double[] dOut) = RandomTensors.Attention(shape, seed: blockSize + topK);

            AttentionOutput moba = MobaReference.Forward(shape, q, k, v, blockSize, topK, causal);
            AttentionOutput dense = DenseReference.Forward(shape, q, k, v, causal);
            AttentionGradients mobaGradients = MobaReference.Backward(shape, q, k, v, dOut, blockSize, topK, causal);
            AttentionGradients denseGradients = DenseReference.Backward(shape, q, k, v, dOut, causal);

            AssertNumeric.AllClose(dense.Output, moba.Output, Tolerance, "output");
            AssertNumeric.AllClose(dense.Lse, moba.Lse, Tolerance, "LSE");
            AssertNumeric.AllClose(denseGradients.DQ, mobaGradients.DQ, Tolerance, "dQ");
            AssertNumeric.AllClose(denseGradients.DK, mobaGradients.DK, Tolerance, "dK");
            AssertNumeric.AllClose(denseGradients.DV, mobaGradients.DV, Tolerance, "dV");
        }
    }

    [Fact]
    public void Forward_CausalWithRowsBeforeTheFirstKey_GivesZeroOutputAndInfiniteLse()
    {
        AttentionShape shape = TestShapes.Varlen(2, 1, 3);    // sequence 2: Nq = 12, Nk = 9 -> rows 0..2 have p < 0
        (double[] q, double[] k, double[] v, _) = RandomTensors.Attention(shape, seed: 3);
        int firstRow = shape.CuSeqlensQ[2];

        AttentionOutput result = MobaReference.Forward(shape, q, k, v, 2, 2, causal: true);

        for (int row = 0; row < shape.TotalQ; row++)
        {
            bool empty = row >= firstRow && row < firstRow + 3;
            for (int h = 0; h < 2; h++)
            {
                double lse = result.Lse[h * shape.TotalQ + row];
                Assert.Equal(empty, double.IsPositiveInfinity(lse));
                Assert.True(double.IsFinite(lse) || empty, $"row {row} head {h}: LSE {lse}");
                if (empty)
                {
                    Assert.All(result.Output[((row * 2 + h) * 3)..((row * 2 + h + 1) * 3)], x => Assert.Equal(0.0, x));
                }
            }
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    [InlineData(4, 3)]
    public void Forward_Causal_RowIgnoresKeysAndValuesAfterItsPosition(int blockSize, int topK)
    {
        AttentionShape shape = TestShapes.Varlen(4, 2, 3);
        (double[] q, double[] k, double[] v, _) = RandomTensors.Attention(shape, seed: 40 + blockSize);
        AttentionOutput baseline = MobaReference.Forward(shape, q, k, v, blockSize, topK, causal: true);
        AttentionOutput denseBaseline = DenseReference.Forward(shape, q, k, v, causal: true);
        var random = new Random(41);
        int rowWidth = shape.HeadsKv * shape.HeadDim;

        for (int b = 0; b < shape.Batch; b++)
        {
            int lenQ = shape.CuSeqlensQ[b + 1] - shape.CuSeqlensQ[b];
            int lenK = shape.CuSeqlensK[b + 1] - shape.CuSeqlensK[b];
            for (int t = 0; t < lenQ; t++)
            {
                int position = t + lenK - lenQ;
                int firstFutureKey = shape.CuSeqlensK[b] + Math.Max(position + 1, 0);
                int futureEnd = shape.CuSeqlensK[b + 1];
                if (firstFutureKey == futureEnd)
                {
                    continue;    // nothing after p to change
                }

                double[] kChanged = (double[])k.Clone(), vChanged = (double[])v.Clone();
                for (int i = firstFutureKey * rowWidth; i < futureEnd * rowWidth; i++)
                {
                    kChanged[i] = 3 * (2 * random.NextDouble() - 1);
                    vChanged[i] = 3 * (2 * random.NextDouble() - 1);
                }

                AttentionOutput changed = MobaReference.Forward(shape, q, kChanged, vChanged, blockSize, topK, true);
                AttentionOutput denseChanged = DenseReference.Forward(shape, q, kChanged, vChanged, true);

                int row = shape.CuSeqlensQ[b] + t;
                AssertRowUnchanged(shape, baseline, changed, row, "MoBA");
                AssertRowUnchanged(shape, denseBaseline, denseChanged, row, "dense");
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_EqualsForwardWithTheSelectBlocksSelection(bool causal)
    {
        AttentionShape shape = TestShapes.VarlenWithEmptySequences(4, 2, 3);
        (double[] q, double[] k, double[] v, double[] dOut) = RandomTensors.Attention(shape, seed: 9);
        const double scale = 0.8;
        int[] selection = BlockRouting.SelectBlocks(shape, q, k, 2, 2, causal);

        AttentionOutput routed = MobaReference.Forward(shape, q, k, v, 2, 2, causal, scale);
        AttentionOutput given = MobaReference.ForwardWithSelection(shape, q, k, v, 2, selection, 2, causal, scale);
        AttentionGradients routedGradients = MobaReference.Backward(shape, q, k, v, dOut, 2, 2, causal, scale);
        AttentionGradients givenGradients =
            MobaReference.BackwardWithSelection(shape, q, k, v, dOut, 2, selection, 2, causal, scale);

        AssertNumeric.Identical(given.Output, routed.Output, "output");
        AssertNumeric.Identical(given.Lse, routed.Lse, "LSE");
        AssertNumeric.Identical(givenGradients.DQ, routedGradients.DQ, "dQ");
        AssertNumeric.Identical(givenGradients.DK, routedGradients.DK, "dK");
        AssertNumeric.Identical(givenGradients.DV, routedGradients.DV, "dV");
    }

    [Fact]
    public void Forward_TopKBelowBlockCount_DiffersFromDense()
    {
        // Guards the equivalence test above against a MoBA that ignores topK.
        AttentionShape shape = TestShapes.Varlen(2, 2, 3);
        (double[] q, double[] k, double[] v, _) = RandomTensors.Attention(shape, seed: 12);

        AttentionOutput moba = MobaReference.Forward(shape, q, k, v, 2, 2, causal: true);
        AttentionOutput dense = DenseReference.Forward(shape, q, k, v, causal: true);

        double largestDifference = moba.Output.Zip(dense.Output, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(largestDifference > 1e-3, $"largest difference {largestDifference}");
    }

    private static void AssertRowUnchanged(AttentionShape shape, AttentionOutput expected, AttentionOutput actual,
        int row, string what)
    {
        int width = shape.Heads * shape.HeadDim;
        AssertNumeric.Identical(expected.Output[(row * width)..((row + 1) * width)],
            actual.Output[(row * width)..((row + 1) * width)], $"{what} output row {row}");
        for (int h = 0; h < shape.Heads; h++)
        {
            Assert.Equal(expected.Lse[h * shape.TotalQ + row], actual.Lse[h * shape.TotalQ + row]);
        }
    }
}
