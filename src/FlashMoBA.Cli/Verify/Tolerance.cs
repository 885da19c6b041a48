using FlashMoBA.Cli.Text;

namespace FlashMoBA.Cli.Verify;

/// <summary>
/// An element passes when <c>|actual − expected| ≤ Absolute + Relative·|expected|</c> (numpy's allclose);
/// infinities must match exactly and NaN never passes.
/// </summary>
/// <param name="Absolute">Absolute slack.</param>
/// <param name="Relative">Relative slack.</param>
internal readonly record struct Tolerance(double Absolute, double Relative)
{
    /// <summary>Exact equality (integer outputs such as block indices).</summary>
    public static Tolerance Exact { get; } = new(0, 0);

    /// <summary>Whether one element passes.</summary>
    public bool Accepts(double actual, double expected)
    {
        if (double.IsNaN(actual) || double.IsNaN(expected)) return false;
        if (double.IsInfinity(actual) || double.IsInfinity(expected)) return actual == expected;
        return Math.Abs(actual - expected) <= Absolute + Relative * Math.Abs(expected);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        Absolute == 0 && Relative == 0 ? "exact" : $"{Units.Num(Absolute, "0.0e+0")}+{Units.Num(Relative, "0.0e+0")}|x|";
}
