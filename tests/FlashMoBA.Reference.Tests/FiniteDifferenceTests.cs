using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>
/// Analytic backward vs central finite differences of <c>L = Σ dOut ⊙ o</c> in float64, for every element of
/// q, k, v (and of the key-convolution's k and w). MoBA runs with a fixed selection: routing is not
/// differentiated, and a perturbation must not flip a near-tie in the top-k.
/// </summary>
public sealed class FiniteDifferenceTests
{
    // Varlen, ragged against B = 2, Nq != Nk both ways, GQA: 3 sequences, 9 query rows, 12 keys.
    private static readonly AttentionShape Shape = AttentionShape.FromLengths([4, 1, 4], [3, 4, 5], 4, 2, 3);
    private const double Scale = 0.6;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DenseBackward_MatchesFiniteDifferences(bool causal)
    {
        (double[] q, double[] k, double[] v, double[] dOut) = RandomTensors.Attention(Shape, seed: 31);

        AttentionGradients analytic = DenseReference.Backward(Shape, q, k, v, dOut, causal, Scale);

        double Loss() => FiniteDifference.Project(dOut, DenseReference.Forward(Shape, q, k, v, causal, Scale).Output);
        AssertGradients(analytic, q, k, v, Loss);
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 2)]
    [InlineData(true, 1)]
    public void MobaBackwardWithSelection_MatchesFiniteDifferences(bool causal, int topK)
    {
        const int blockSize = 2;
        (double[] q, double[] k, double[] v, double[] dOut) = RandomTensors.Attention(Shape, seed: 32 + topK);
        int[] selection = BlockRouting.SelectBlocks(Shape, q, k, blockSize, topK, causal);

        AttentionGradients analytic =
            MobaReference.BackwardWithSelection(Shape, q, k, v, dOut, blockSize, selection, topK, causal, Scale);

        double Loss() => FiniteDifference.Project(dOut,
            MobaReference.ForwardWithSelection(Shape, q, k, v, blockSize, selection, topK, causal, Scale).Output);
        AssertGradients(analytic, q, k, v, Loss);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void KeyConvBackward_MatchesFiniteDifferences(int width)
    {
        // Sequences of 6, 2 and 4 keys (one shorter than the width), Hk = 2, d = 3.
        int[] cuSeqlensK = [0, 6, 8, 12];
        const int headsKv = 2, headDim = 3;
        var random = new Random(50 + width);
        double[] k = RandomTensors.Uniform(random, 12 * headsKv * headDim, 1.5);
        double[] weights = RandomTensors.Uniform(random, width * headsKv * headDim);
        double[] dKPrime = RandomTensors.Uniform(random, k.Length);

        KeyConvGradients analytic = KeyConvReference.Backward(cuSeqlensK, headsKv, headDim, k, weights, width, dKPrime);

        double Loss() => FiniteDifference.Project(dKPrime,
            KeyConvReference.Forward(cuSeqlensK, headsKv, headDim, k, weights, width));
        AssertNumeric.AllClose(FiniteDifference.Gradient(Loss, k), analytic.DK, FiniteDifference.Tolerance, "dK");
        AssertNumeric.AllClose(FiniteDifference.Gradient(Loss, weights), analytic.DW, FiniteDifference.Tolerance, "dW");
    }

    private static void AssertGradients(AttentionGradients analytic, double[] q, double[] k, double[] v,
        Func<double> loss)
    {
        AssertNumeric.AllClose(FiniteDifference.Gradient(loss, q), analytic.DQ, FiniteDifference.Tolerance, "dQ");
        AssertNumeric.AllClose(FiniteDifference.Gradient(loss, k), analytic.DK, FiniteDifference.Tolerance, "dK");
        AssertNumeric.AllClose(FiniteDifference.Gradient(loss, v), analytic.DV, FiniteDifference.Tolerance, "dV");
        Assert.Contains(analytic.DK, x => Math.Abs(x) > 1e-3);    // the check must not pass on all-zero gradients
    }
}
