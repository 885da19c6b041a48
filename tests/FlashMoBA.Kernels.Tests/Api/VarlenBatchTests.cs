namespace FlashMoBA.Kernels.Tests.Api;

public sealed class VarlenBatchTests
{
    [Fact]
    public void FromCuSeqlens_ThreeSequences_ExposesTotalsAndLengths()
    {
        var batch = VarlenBatch.FromCuSeqlens([0, 5, 5, 12], [0, 7, 9, 20]);

        Assert.Equal(3, batch.Batch);
        Assert.Equal(12, batch.TotalQ);
        Assert.Equal(20, batch.TotalK);
        Assert.Equal(7, batch.MaxSeqlenQ);
        Assert.Equal(11, batch.MaxSeqlenK);
        Assert.Equal([5, 0, 7], batch.LengthsQ.ToArray());
        Assert.Equal([7, 2, 11], batch.LengthsK.ToArray());
        Assert.Equal([0, 5, 5, 12], batch.CuSeqlensQ.ToArray());
        Assert.Equal([0, 7, 9, 20], batch.CuSeqlensK.ToArray());
        Assert.False(batch.IsSelfAttention);
    }

    [Fact]
    public void FromCuSeqlens_CopiesInput()
    {
        int[] cu = [0, 3, 8];
        var batch = VarlenBatch.FromCuSeqlens(cu);
        cu[2] = 100;
        Assert.Equal(8, batch.TotalQ);
        Assert.Equal(8, batch.TotalK);
        Assert.True(batch.IsSelfAttention);
    }

    [Fact]
    public void FromLengths_EqualsFromCuSeqlens()
    {
        var fromLengths = VarlenBatch.FromLengths([4, 1, 9], [6, 6, 2]);
        Assert.Equal([0, 4, 5, 14], fromLengths.CuSeqlensQ.ToArray());
        Assert.Equal([0, 6, 12, 14], fromLengths.CuSeqlensK.ToArray());
        Assert.Equal(9, fromLengths.MaxSeqlenQ);
    }

    [Fact]
    public void Uniform_BuildsEqualSequences()
    {
        var batch = VarlenBatch.Uniform(2, 96);
        Assert.Equal([0, 96, 192], batch.CuSeqlensQ.ToArray());
        Assert.True(batch.IsSelfAttention);
    }

    public static TheoryData<int[], string> BadCuSeqlens => new()
    {
        { [], "batch + 1 >= 2" },
        { [0], "batch + 1 >= 2" },
        { [1, 4], "[0] must be 0" },
        { [0, -3], "must be >= 0" },
        { [0, 5, 3], "non-decreasing" },
        { [0, 2, 7, 6, 9], "non-decreasing" },
    };

    [Theory]
    [MemberData(nameof(BadCuSeqlens))]
    public void FromCuSeqlens_BadQuery_ThrowsNamingCuSeqlensQ(int[] cuSeqlensQ, string rule)
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromCuSeqlens(cuSeqlensQ, [0, 4]));
        Assert.Equal("cuSeqlensQ", ex.ParamName);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadCuSeqlens))]
    public void FromCuSeqlens_BadKey_ThrowsNamingCuSeqlensK(int[] cuSeqlensK, string rule)
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromCuSeqlens([0, 4], cuSeqlensK));
        Assert.Equal("cuSeqlensK", ex.ParamName);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadCuSeqlens))]
    public void FromCuSeqlens_BadSelfAttention_ThrowsNamingCuSeqlens(int[] cuSeqlens, string rule)
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromCuSeqlens(cuSeqlens));
        Assert.Equal("cuSeqlens", ex.ParamName);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromCuSeqlens_DifferentBatchSizes_ThrowsNamingCuSeqlensK()
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromCuSeqlens([0, 4, 8], [0, 4]));
        Assert.Equal("cuSeqlensK", ex.ParamName);
        Assert.Contains("same length", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromLengths_Negative_ThrowsNamingLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromLengths([3, -1]));
        Assert.Equal("lengths", ex.ParamName);
    }

    [Fact]
    public void FromLengths_Empty_ThrowsNamingLengthsQ()
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromLengths([], [2]));
        Assert.Equal("lengthsQ", ex.ParamName);
    }

    [Fact]
    public void FromLengths_DifferentCounts_ThrowsNamingLengthsK()
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromLengths([3, 4], [3]));
        Assert.Equal("lengthsK", ex.ParamName);
    }

    [Fact]
    public void FromLengths_TotalOverflowsInt_ThrowsNamingLengths()
    {
        var ex = Assert.Throws<ArgumentException>(() => VarlenBatch.FromLengths([int.MaxValue, 1]));
        Assert.Equal("lengths", ex.ParamName);
    }

    [Fact]
    public void Uniform_ZeroBatch_ThrowsNamingBatch()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => VarlenBatch.Uniform(0, 16));
        Assert.Equal("batch", ex.ParamName);
    }
}
