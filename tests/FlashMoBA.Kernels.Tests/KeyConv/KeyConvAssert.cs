namespace FlashMoBA.Kernels.Tests.KeyConv;

/// <summary>Element-wise checks against the float64 reference that report the worst element.</summary>
internal static class KeyConvAssert
{
    /// <summary>
    /// <c>|actual − expected| ≤ relative · |expected| + absolute</c> for every element; NaN fails.
    /// </summary>
    public static void Close(double[] expected, double[] actual, double relative, double absolute, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worstExcess = double.NegativeInfinity;
        int worst = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double allowed = relative * Math.Abs(expected[i]) + absolute;
            double error = Math.Abs(actual[i] - expected[i]);
            double excess = double.IsNaN(error) ? double.PositiveInfinity : error / allowed;
            if (excess > worstExcess)
            {
                worstExcess = excess;
                worst = i;
            }
        }
        Assert.True(worstExcess <= 1.0,
            $"{what}: element {worst} is {actual[worst]:R}, reference {expected[worst]:R}: error "
            + $"{Math.Abs(actual[worst] - expected[worst]):E3} is {worstExcess:F2}× the tolerance.");
    }
}
