namespace FlashMoBA.Reference;

/// <summary>Key convolution (DESIGN.md §3): <c>k'_t = k_t + SiLU(Σ_{ℓ&lt;W} w_ℓ ⊙ k_{t−ℓ})</c> per sequence.</summary>
public static class KeyConvReference
{
    /// <summary>Convolved keys <c>[TotalK, headsKv, headDim]</c>; <paramref name="weights"/> is <c>[width, headsKv, headDim]</c>.</summary>
    public static double[] Forward(int[] cuSeqlensK, int headsKv, int headDim, double[] k, double[] weights, int width)
        => throw new NotImplementedException();

    /// <summary>Gradients w.r.t. k and the weights, given the gradient of the convolved keys.</summary>
    public static KeyConvGradients Backward(int[] cuSeqlensK, int headsKv, int headDim, double[] k, double[] weights,
        int width, double[] dKPrime) => throw new NotImplementedException();
}
