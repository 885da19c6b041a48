namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// Error budgets of MoBA attention against the float64 reference, in units of the storage type's unit
/// roundoff u (2^−11 fp16, 2^−8 bf16). The inputs are exactly representable, so every error comes from
/// the kernels' deliberate roundings to 16 bits and from fp32 arithmetic.
/// </summary>
internal static class MobaTolerances
{
    /// <summary>
    /// Output: P is rounded to 16 bits before P·V (relative u per term, so at most u·Σ P|v| ≤ u·max|v|)
    /// and the fp32 result is rounded once more (u·|o|). Allowed: twice that, i.e. within 2× of plain
    /// low-precision math: <c>2u·|o| + 2u·max|v|</c>.
    /// </summary>
    public const double OutputRoundings = 2;

    /// <summary>
    /// LSE is fp32 throughout: scores of exact 16-bit inputs summed over d ≤ 128 terms (≤ d·2^−24·Σ|q·k|·scale,
    /// about 1e−4 for N(0, 1) inputs at d = 128) and hardware exp2/log2 (≈ 2^−22 relative). 2e−4 absolute.
    /// </summary>
    public const double LseAbsolute = 2e-4;

    /// <summary>
    /// Gradients: P and dS are rounded to 16 bits before the three gradient GEMMs, dP and D carry the
    /// rounding of dO and O, and the result is rounded once; each contributes about u relative to the
    /// gradient's scale. Allowed: 8u · max|reference| per element (observed about u).
    /// </summary>
    public const double GradientRoundings = 8;

    /// <summary>Unit roundoff of the storage type.</summary>
    public static double UnitRoundoff(ElementType type) => type == ElementType.Float16 ? Math.Pow(2, -11) : Math.Pow(2, -8);
}
