using FlashMoBA.Cli.Verify;

namespace FlashMoBA.Cli.Tests.Verify;

public sealed class VerifyCheckTests
{
    private static readonly Tolerance Loose = new(1e-3, 1e-2);

    [Fact]
    public void Compare_WithinTolerance_Passes()
    {
        var check = VerifyCheck.Compare("x", [1.0f, -3.0f, 0.0f], [1.005, -3.02, 0.0005], Loose);
        Assert.True(check.Passed);
        Assert.Equal(0.02, check.MaxAbsError, 5);
    }

    [Fact]
    public void Compare_OneElementOutside_FailsAndCountsIt()
    {
        var check = VerifyCheck.Compare("x", [1.0f, 5.0f, 2.0f], [1.0, 4.0, 2.0], Loose);
        Assert.False(check.Passed);
        Assert.Equal(1, check.Violations);
        Assert.Contains("[1]", check.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_NaNOutput_Fails() =>
        Assert.False(VerifyCheck.Compare("x", [float.NaN], [0.0], Loose).Passed);

    [Fact]
    public void Compare_MatchingInfinities_Pass_MismatchedFail()
    {
        Assert.True(VerifyCheck.Compare("lse", [float.PositiveInfinity], [double.PositiveInfinity], Loose).Passed);
        var bad = VerifyCheck.Compare("lse", [3.0f], [double.PositiveInfinity], Loose);
        Assert.False(bad.Passed);
        Assert.True(double.IsPositiveInfinity(bad.MaxAbsError));
    }

    [Fact]
    public void Compare_LengthMismatch_Fails() =>
        Assert.False(VerifyCheck.Compare("x", [1.0f], [1.0, 2.0], Loose).Passed);

    [Fact]
    public void CompareExact_CountsMismatches()
    {
        var check = VerifyCheck.CompareExact("idx", [1, 2, 3, 4], [1, 9, 3, 8]);
        Assert.Equal(2, check.Violations);
        Assert.Contains("first mismatch at [1]: 2 vs 9", check.Detail, StringComparison.Ordinal);
        Assert.True(VerifyCheck.CompareExact("idx", [1, 2], [1, 2]).Passed);
    }

    [Fact]
    public void Tolerance_Rule_IsAbsolutePlusRelative()
    {
        var tolerance = new Tolerance(0.1, 0.5);
        Assert.True(tolerance.Accepts(3.0, 2.0));   // |1| <= 0.1 + 0.5·2
        Assert.False(tolerance.Accepts(3.2, 2.0));
        Assert.Equal("exact", Tolerance.Exact.ToString());
    }

    [Fact]
    public void StoredOnce_IsTwoUnitRoundoffs()
    {
        Assert.Equal(2 * Math.Pow(2, -11), VerifyTolerances.StoredOnce(ElementType.Float16, 0).Relative);
        Assert.Equal(2 * Math.Pow(2, -8), VerifyTolerances.StoredOnce(ElementType.BFloat16, 0).Relative);
    }
}
