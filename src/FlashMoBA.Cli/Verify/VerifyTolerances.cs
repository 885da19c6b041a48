namespace FlashMoBA.Cli.Verify;

/// <summary>Error budgets shared by the families, each justified against plain low-precision arithmetic.</summary>
internal static class VerifyTolerances
{
    /// <summary>Unit roundoff of the storage type: 2^−11 (fp16), 2^−8 (bf16).</summary>
    public static double UnitRoundoff(ElementType type) => type == ElementType.Float16 ? Math.Pow(2, -11) : Math.Pow(2, -8);

    /// <summary>
    /// An fp32 result rounded once to the storage type is within u of the exact value; allow 2u relative
    /// (within 2× of plain low-precision math) plus <paramref name="absoluteFloor"/> for the fp32 work before
    /// the rounding.
    /// </summary>
    public static Tolerance StoredOnce(ElementType type, double absoluteFloor) => new(absoluteFloor, 2 * UnitRoundoff(type));
}
