namespace FlashMoBA.Kernels.Tests.KeyConv;

/// <summary>Error budgets of the key-convolution kernels against the float64 reference.</summary>
internal static class KeyConvTolerances
{
    /// <summary>
    /// k′ and dK are fp32 results rounded once to fp16/bf16; a correctly rounded value is within one
    /// unit roundoff u of the exact one. Allowed: 2u relative (within 2× of plain low-precision math).
    /// </summary>
    public const double RoundingsAllowed = 2;

    /// <summary>
    /// fp32 arithmetic before that rounding: at most 5 products of O(1) values plus a SiLU (hardware
    /// exp2 and reciprocal, a few 2^−24 relative) on magnitudes below ~10, i.e. ≲ 1e−6 absolute.
    /// 1e−5 leaves margin and stays 50× below an fp16 ulp at 1.
    /// </summary>
    public const double Fp32MathFloor = 1e-5;

    /// <summary>
    /// dW is an fp32 sum over each sequence's tokens (≤ 40 here) of |g·k| ≤ 1.65 (|dK′| ≤ 1,
    /// SiLU′ ≤ 1.1, |k| ≤ 1.5): the worst-case summation error n·2^−24·Σ|g·k| is 1.6e−4.
    /// </summary>
    public const double DwAbsolute = 2e-4;
}
