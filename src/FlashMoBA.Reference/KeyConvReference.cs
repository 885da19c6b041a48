namespace FlashMoBA.Reference;

/// <summary>Key convolution (DESIGN.md §3): <c>k'_t = k_t + SiLU(Σ_{ℓ&lt;W} w_ℓ ⊙ k_{t−ℓ})</c> per sequence.</summary>
/// <remarks>
/// Depthwise and causal: channel <c>c</c> of KV head <c>g</c> at key <c>t</c> mixes only the same channel of
/// keys <c>t, t−1, …, t−W+1</c> of the same sequence (zero before the sequence starts). Width <c>W</c> ∈ {3, 5}.
/// <c>SiLU(x) = x·σ(x)</c>. Arguments are checked first; a bad one raises <see cref="ArgumentException"/> naming it.
/// </remarks>
public static class KeyConvReference
{
    /// <summary>Convolution widths the product supports.</summary>
    public static IReadOnlyList<int> SupportedWidths { get; } = [3, 5];

    /// <summary>Convolved keys <c>[TotalK, headsKv, headDim]</c>; <paramref name="weights"/> is <c>[width, headsKv, headDim]</c>.</summary>
    public static double[] Forward(int[] cuSeqlensK, int headsKv, int headDim, double[] k, double[] weights, int width)
    {
        Validate(cuSeqlensK, headsKv, headDim, k, weights, width);
        double[] preActivation = Convolve(cuSeqlensK, headsKv * headDim, k, weights, width);
        var kPrime = new double[k.Length];
        for (int i = 0; i < k.Length; i++)
        {
            kPrime[i] = k[i] + Silu(preActivation[i]);
        }

        return kPrime;
    }

    /// <summary>Gradients w.r.t. k and the weights, given the gradient of the convolved keys.</summary>
    /// <remarks>With <c>a_t = Σ_ℓ w_ℓ ⊙ k_{t−ℓ}</c> and <c>da_t = dK'_t ⊙ SiLU'(a_t)</c>:
    /// <c>dk_s = dK'_s + Σ_ℓ w_ℓ ⊙ da_{s+ℓ}</c> (within the sequence) and <c>dw_ℓ = Σ_t da_t ⊙ k_{t−ℓ}</c>.</remarks>
    public static KeyConvGradients Backward(int[] cuSeqlensK, int headsKv, int headDim, double[] k, double[] weights,
        int width, double[] dKPrime)
    {
        Validate(cuSeqlensK, headsKv, headDim, k, weights, width);
        int channels = headsKv * headDim;
        ArgumentRules.RequireLength(dKPrime, (long)cuSeqlensK[^1] * channels, nameof(dKPrime),
            "[TotalK, headsKv, headDim]");
        double[] preActivation = Convolve(cuSeqlensK, channels, k, weights, width);
        var dPreActivation = new double[k.Length];
        for (int i = 0; i < k.Length; i++)
        {
            dPreActivation[i] = dKPrime[i] * SiluDerivative(preActivation[i]);
        }

        var dk = (double[])dKPrime.Clone();
        var dw = new double[weights.Length];
        for (int b = 0; b + 1 < cuSeqlensK.Length; b++)
        {
            for (int t = cuSeqlensK[b]; t < cuSeqlensK[b + 1]; t++)
            {
                for (int lag = 0; lag < width && t - lag >= cuSeqlensK[b]; lag++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        double upstream = dPreActivation[t * channels + c];
                        dk[(t - lag) * channels + c] += weights[lag * channels + c] * upstream;
                        dw[lag * channels + c] += k[(t - lag) * channels + c] * upstream;
                    }
                }
            }
        }

        return new KeyConvGradients(dk, dw);
    }

    /// <summary><c>a_t = Σ_{ℓ&lt;W} w_ℓ ⊙ k_{t−ℓ}</c>, skipping taps before the sequence start.</summary>
    private static double[] Convolve(int[] cuSeqlensK, int channels, double[] k, double[] weights, int width)
    {
        var preActivation = new double[k.Length];
        for (int b = 0; b + 1 < cuSeqlensK.Length; b++)
        {
            for (int t = cuSeqlensK[b]; t < cuSeqlensK[b + 1]; t++)
            {
                for (int lag = 0; lag < width && t - lag >= cuSeqlensK[b]; lag++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        preActivation[t * channels + c] += weights[lag * channels + c] * k[(t - lag) * channels + c];
                    }
                }
            }
        }

        return preActivation;
    }

    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    private static double Silu(double x) => x * Sigmoid(x);

    /// <summary><c>d/dx [x σ(x)] = σ(x) (1 + x (1 − σ(x)))</c>.</summary>
    private static double SiluDerivative(double x)
    {
        double sigmoid = Sigmoid(x);
        return sigmoid * (1 + x * (1 - sigmoid));
    }

    private static void Validate(int[] cuSeqlensK, int headsKv, int headDim, double[] k, double[] weights, int width)
    {
        ArgumentRules.RequireCuSeqlens(cuSeqlensK, nameof(cuSeqlensK));
        ArgumentRules.RequirePositive(headsKv, nameof(headsKv));
        ArgumentRules.RequirePositive(headDim, nameof(headDim));
        if (!SupportedWidths.Contains(width))
        {
            throw new ArgumentException(
                $"width must be one of {string.Join(", ", SupportedWidths)}; it is {width}.", nameof(width));
        }

        long channels = (long)headsKv * headDim;
        ArgumentRules.RequireLength(k, cuSeqlensK[^1] * channels, nameof(k), "[TotalK, headsKv, headDim]");
        ArgumentRules.RequireLength(weights, width * channels, nameof(weights), "[width, headsKv, headDim]");
    }
}
