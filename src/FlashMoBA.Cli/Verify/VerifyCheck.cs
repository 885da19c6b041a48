namespace FlashMoBA.Cli.Verify;

/// <summary>The comparison of one output tensor of one case with the reference (a row of the verify table).</summary>
/// <param name="Quantity">What was compared: "out", "lse", "dq", "topk", ...</param>
/// <param name="MaxAbsError">Largest |actual − expected| over finite pairs (+∞ when an infinity or NaN mismatched).</param>
/// <param name="MaxRelError">Largest |actual − expected| / max(|expected|, Absolute tolerance or 1e-6).</param>
/// <param name="ToleranceText">The per-element rule, as shown in the table.</param>
/// <param name="Violations">Elements that broke the rule.</param>
/// <param name="Count">Elements compared.</param>
/// <param name="Detail">The worst element's index and values, or an error message.</param>
internal sealed record VerifyCheck(
    string Quantity, double MaxAbsError, double MaxRelError, string ToleranceText, long Violations, long Count, string Detail)
{
    /// <summary>True when no element broke the rule and something was compared.</summary>
    public bool Passed => Violations == 0 && Count > 0;

    /// <summary>Compares floating-point results with the reference element by element.</summary>
    public static VerifyCheck Compare(string quantity, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, Tolerance tolerance)
    {
        if (actual.Length != expected.Length)
            return Failed(quantity, tolerance, $"length {actual.Length} != reference length {expected.Length}");
        double maxAbs = 0, maxRel = 0;
        long violations = 0;
        int worst = -1;
        double worstExcess = double.NegativeInfinity;
        double floor = tolerance.Absolute > 0 ? tolerance.Absolute : 1e-6;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            bool ok = tolerance.Accepts(a, e);
            double abs = double.IsFinite(a) && double.IsFinite(e) ? Math.Abs(a - e) : (ok ? 0 : double.PositiveInfinity);
            maxAbs = Math.Max(maxAbs, abs);
            maxRel = Math.Max(maxRel, abs / Math.Max(Math.Abs(e), floor));
            double excess = ok ? abs - (tolerance.Absolute + tolerance.Relative * Math.Abs(e)) : double.PositiveInfinity;
            if (!ok) violations++;
            if (worst < 0 || excess > worstExcess)
            {
                worst = i;
                worstExcess = excess;
            }
        }
        string detail = worst < 0 ? "empty" : $"worst at [{worst}]: {actual[worst]:G6} vs {expected[worst]:G6}";
        return new VerifyCheck(quantity, maxAbs, maxRel, tolerance.ToString(), violations, actual.Length, detail);
    }

    /// <summary>Compares integer results exactly; the error columns hold the number of mismatches.</summary>
    public static VerifyCheck CompareExact(string quantity, ReadOnlySpan<int> actual, ReadOnlySpan<int> expected)
    {
        if (actual.Length != expected.Length)
            return Failed(quantity, Tolerance.Exact, $"length {actual.Length} != reference length {expected.Length}");
        long mismatches = 0;
        int first = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] == expected[i]) continue;
            mismatches++;
            if (first < 0) first = i;
        }
        string detail = first < 0 ? "all equal" : $"first mismatch at [{first}]: {actual[first]} vs {expected[first]}";
        return new VerifyCheck(quantity, mismatches, mismatches, Tolerance.Exact.ToString(), mismatches, actual.Length, detail);
    }

    /// <summary>A failed check that compared nothing (an exception, a length mismatch).</summary>
    public static VerifyCheck Failed(string quantity, Tolerance tolerance, string reason) =>
        new(quantity, double.PositiveInfinity, double.PositiveInfinity, tolerance.ToString(), 1, 0, reason);
}
