namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>Element-wise comparisons with the float64 reference that report the worst element.</summary>
internal static class MobaAssert
{
    /// <summary>
    /// <c>|actual − expected| ≤ relative · |expected| + absolute</c> for every element; infinities must match
    /// exactly and NaN always fails.
    /// </summary>
    public static void Close(double[] expected, double[] actual, double relative, double absolute, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} elements, expected {expected.Length}.");
        double worstExcess = 0;
        int worst = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess;
            if (double.IsInfinity(expected[i]) || double.IsInfinity(actual[i]))
                excess = expected[i] == actual[i] ? 0 : double.PositiveInfinity;
            else
            {
                double error = Math.Abs(actual[i] - expected[i]);
                excess = double.IsNaN(error) ? double.PositiveInfinity : error / (relative * Math.Abs(expected[i]) + absolute);
            }
            if (excess > worstExcess || worst < 0)
            {
                worstExcess = excess;
                worst = i;
            }
        }
        Assert.True(worstExcess <= 1.0,
            $"{what}: element {worst} is {actual[worst]:R}, reference {expected[worst]:R}: "
            + $"{worstExcess:F2}× the tolerance ({relative:E1}·|x| + {absolute:E1}).");
    }

    /// <summary>Largest |x| of a tensor (at least 1e-30): gradient tolerances scale with it.</summary>
    public static double MaxAbs(double[] values)
    {
        double max = 1e-30;
        foreach (double value in values) max = Math.Max(max, Math.Abs(value));
        return max;
    }
}
