using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>Key convolution <c>k'_t = k_t + SiLU(Σ_{ℓ&lt;W} w_ℓ ⊙ k_{t−ℓ})</c> on hand-sized inputs.</summary>
public sealed class KeyConvReferenceTests
{
    private const double Tolerance = 1e-15;    // a few float64 operations per element: rounding only

    private static double Silu(double x) => x / (1 + Math.Exp(-x));

    [Fact]
    public void Forward_Width3_OneChannel_MatchesHandExpansion()
    {
        double[] k = [1, 2, 3, -1];
        double[] w = [0.5, -1, 0.25];    // w0 weighs the current key, w2 the key two steps back

        double[] kPrime = KeyConvReference.Forward([0, 4], 1, 1, k, w, 3);

        double[] expected =
        [
            1 + Silu(0.5 * 1),
            2 + Silu(0.5 * 2 - 1 * 1),
            3 + Silu(0.5 * 3 - 1 * 2 + 0.25 * 1),
            -1 + Silu(0.5 * -1 - 1 * 3 + 0.25 * 2),
        ];
        AssertNumeric.AllClose(expected, kPrime, Tolerance, "k'");
    }

    [Fact]
    public void Forward_Width5_UsesFiveTapsOnceTheSequenceIsLongEnough()
    {
        double[] k = [0.3, -0.8, 1.1, 0.4, -0.6, 0.9];
        double[] w = [0.7, -0.2, 0.5, -0.9, 0.35];

        double[] kPrime = KeyConvReference.Forward([0, 6], 1, 1, k, w, 5);

        double expectedLast = 0.9 + Silu(0.7 * 0.9 - 0.2 * -0.6 + 0.5 * 0.4 - 0.9 * 1.1 + 0.35 * -0.8);
        double expectedThird = 1.1 + Silu(0.7 * 1.1 - 0.2 * -0.8 + 0.5 * 0.3);
        AssertNumeric.AllClose([expectedThird, expectedLast], [kPrime[2], kPrime[5]], Tolerance, "k'");
    }

    [Fact]
    public void Forward_Varlen_PerChannelWeights_DoNotReachAcrossSequences()
    {
        // Two sequences of 2 and 3 keys, Hk = 1, d = 2 (channels c0, c1 with their own weights).
        double[] k = [1, -1, 2, 0.5, /* seq 2 */ -3, 4, 0.25, -0.5, 1.5, 2];
        double[] w = [0.5, -0.5, /* lag 1 */ 2, 1, /* lag 2 */ -1, 3];

        double[] kPrime = KeyConvReference.Forward([0, 2, 5], 1, 2, k, w, 3);

        double[] expected =
        [
            1 + Silu(0.5 * 1), -1 + Silu(-0.5 * -1),
            2 + Silu(0.5 * 2 + 2 * 1), 0.5 + Silu(-0.5 * 0.5 + 1 * -1),
            -3 + Silu(0.5 * -3), 4 + Silu(-0.5 * 4),    // first key of sequence 2: no taps from sequence 1
            0.25 + Silu(0.5 * 0.25 + 2 * -3), -0.5 + Silu(-0.5 * -0.5 + 1 * 4),
            1.5 + Silu(0.5 * 1.5 + 2 * 0.25 - 1 * -3), 2 + Silu(-0.5 * 2 + 1 * -0.5 + 3 * 4),
        ];
        AssertNumeric.AllClose(expected, kPrime, Tolerance, "k'");
    }

    [Fact]
    public void Backward_SingleKey_MatchesSiluDerivative()
    {
        // k' = k + SiLU(w0 k): dk = g (1 + w0 SiLU'(w0 k)), dw0 = g k SiLU'(w0 k), other taps see no key.
        const double key = 0.8, w0 = -1.3, g = 0.7;
        double a = w0 * key, sigmoid = 1 / (1 + Math.Exp(-a));
        double siluPrime = sigmoid * (1 + a * (1 - sigmoid));

        KeyConvGradients gradients = KeyConvReference.Backward([0, 1], 1, 1, [key], [w0, 0.4, 0.9], 3, [g]);

        AssertNumeric.AllClose([g * (1 + w0 * siluPrime)], gradients.DK, Tolerance, "dK");
        AssertNumeric.AllClose([g * key * siluPrime, 0, 0], gradients.DW, Tolerance, "dW");
    }
}
