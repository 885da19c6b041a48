namespace FlashMoBA.Reference.Tests.Infrastructure;

/// <summary>Element-wise comparisons that report the worst element on failure.</summary>
internal static class AssertNumeric
{
    /// <summary>
    /// Every element within <paramref name="tolerance"/> of the expected one, absolute error scaled by
    /// <c>max(1, |expected|)</c>; equal infinities match, NaN never does.
    /// </summary>
    public static void AllClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worstError = 0;
        int worstIndex = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsInfinity(expected[i]) && expected[i] == actual[i])
            {
                continue;
            }

            double error = Math.Abs(expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            if (double.IsNaN(error) || double.IsInfinity(error))
            {
                error = double.PositiveInfinity;
            }

            if (error > worstError || worstIndex < 0 && error > 0)
            {
                worstError = error;
                worstIndex = i;
            }
        }

        Assert.True(worstError <= tolerance,
            $"{what}: worst error {worstError:E3} at index {worstIndex} (expected {Get(expected, worstIndex)}, "
            + $"actual {Get(actual, worstIndex)}) exceeds {tolerance:E1}.");
    }

    /// <summary>Bit-for-bit equal arrays, reporting the first difference.</summary>
    public static void Identical(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Equals(actual[i]),
                $"{what}: index {i} differs (expected {expected[i]}, actual {actual[i]}).");
        }
    }

    private static string Get(double[] values, int index) => index < 0 ? "-" : values[index].ToString("R");
}
