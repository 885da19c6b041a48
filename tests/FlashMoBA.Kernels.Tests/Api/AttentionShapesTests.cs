namespace FlashMoBA.Kernels.Tests.Api;

public sealed class AttentionShapesTests
{
    private static readonly VarlenBatch Batch = VarlenBatch.FromCuSeqlens([0, 10, 25], [0, 12, 30]);
    private static readonly MobaConfig Config = new(blockSize: 16, topK: 2);

    private static AttentionDims Validate(int[] q, int[] k, int[] v, VarlenBatch? batch = null, MobaConfig? config = null) =>
        AttentionShapes.Validate(q, k, v, batch ?? Batch, config ?? Config);

    [Fact]
    public void Validate_GqaShapes_ReturnsDims()
    {
        var dims = Validate([25, 8, 64], [30, 2, 64], [30, 2, 64]);

        Assert.Equal(new AttentionDims(25, 30, 8, 2, 64, 0.125), dims);
        Assert.Equal(4, dims.GroupSize);
        Assert.Equal(1, dims.KvHeadOf(5));
        Assert.Equal([8, 25], dims.LseShape);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    public void Validate_HeadChunkNotWholeGroups_ThrowsNamingConfig(int chunk)
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Validate([25, 8, 64], [30, 2, 64], [30, 2, 64], config: Config with { HeadChunk = chunk }));
        Assert.Equal("config", ex.ParamName);
        Assert.Contains("multiple of the GQA group size H / Hk = 4", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(12)]
    public void Validate_HeadChunkWholeGroups_Accepted(int chunk) =>
        Assert.Equal(8, Validate([25, 8, 64], [30, 2, 64], [30, 2, 64], config: Config with { HeadChunk = chunk }).Heads);

    [Fact]
    public void Validate_Mqa_Accepted() =>
        Assert.Equal(1, Validate([25, 6, 128], [30, 1, 128], [30, 1, 128]).HeadsKv);

    [Fact]
    public void Validate_SupportedHeadDims_Are64And128() =>
        Assert.Equal([64, 128], AttentionShapes.SupportedHeadDims.ToArray());

    [Theory]
    [InlineData(new[] { 25, 4 }, "q", "rank 3")]
    [InlineData(new[] { 25, 4, 64, 1 }, "q", "rank 3")]
    [InlineData(new[] { 25, 0, 64 }, "q", ">= 1")]
    public void Validate_BadQRank_ThrowsNamingQ(int[] q, string param, string rule)
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate(q, [30, 2, 64], [30, 2, 64]));
        Assert.Equal(param, ex.ParamName);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadKRank_ThrowsNamingK()
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate([25, 4, 64], [30, 128], [30, 2, 64]));
        Assert.Equal("k", ex.ParamName);
    }

    [Fact]
    public void Validate_BadVRank_ThrowsNamingV()
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate([25, 4, 64], [30, 2, 64], [30, 2, 64, 1]));
        Assert.Equal("v", ex.ParamName);
    }

    [Fact]
    public void Validate_TotalQMismatch_ThrowsNamingQ()
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate([24, 4, 64], [30, 2, 64], [30, 2, 64]));
        Assert.Equal("q", ex.ParamName);
        Assert.Contains("cuSeqlensQ totals 25", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TotalKMismatch_ThrowsNamingK()
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate([25, 4, 64], [31, 2, 64], [31, 2, 64]));
        Assert.Equal("k", ex.ParamName);
        Assert.Contains("cuSeqlensK totals 30", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(29, 2)]
    [InlineData(30, 1)]
    public void Validate_VShapeDiffersFromK_ThrowsNamingV(int rows, int heads)
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate([25, 4, 64], [30, 2, 64], [rows, heads, 64]));
        Assert.Equal("v", ex.ParamName);
        Assert.Contains("must equal k shape", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(6, 4)]
    [InlineData(4, 3)]
    [InlineData(2, 4)]
    public void Validate_HeadsNotMultipleOfKvHeads_ThrowsNamingK(int heads, int headsKv)
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Validate([25, heads, 64], [30, headsKv, 64], [30, headsKv, 64]));
        Assert.Equal("k", ex.ParamName);
        Assert.Contains("multiple of k heads", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(96)]
    [InlineData(256)]
    public void Validate_UnsupportedHeadDim_ThrowsNamingQ(int headDim)
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Validate([25, 4, headDim], [30, 2, headDim], [30, 2, headDim]));
        Assert.Equal("q", ex.ParamName);
        Assert.Contains("supported: 64, 128", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KHeadDimDiffers_ThrowsNamingK()
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate([25, 4, 64], [30, 2, 128], [30, 2, 64]));
        Assert.Equal("k", ex.ParamName);
        Assert.Contains("must equal q head dim", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_VHeadDimDiffers_ThrowsNamingV()
    {
        var ex = Assert.Throws<ArgumentException>(() => Validate([25, 4, 64], [30, 2, 64], [30, 2, 128]));
        Assert.Equal("v", ex.ParamName);
        Assert.Contains("must equal q head dim", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NullBatch_ThrowsNamingBatch()
    {
        var ex = Assert.Throws<ArgumentNullException>(() =>
            AttentionShapes.Validate([25, 4, 64], [30, 2, 64], [30, 2, 64], null!, Config));
        Assert.Equal("batch", ex.ParamName);
    }

    [Fact]
    public void Validate_NullConfig_ThrowsNamingConfig()
    {
        var ex = Assert.Throws<ArgumentNullException>(() =>
            AttentionShapes.Validate([25, 4, 64], [30, 2, 64], [30, 2, 64], Batch, null!));
        Assert.Equal("config", ex.ParamName);
    }

    [Fact]
    public void Validate_ExplicitScale_IsReturned() =>
        Assert.Equal(0.5, Validate([25, 4, 64], [30, 2, 64], [30, 2, 64], config: Config with { SoftmaxScale = 0.5 }).SoftmaxScale);

    [Fact]
    public void RequireShape_Different_ThrowsNamingArgument()
    {
        var ex = Assert.Throws<ArgumentException>(() => AttentionShapes.RequireShape([25, 4, 64], [25, 4, 128], "dOut"));
        Assert.Equal("dOut", ex.ParamName);
        Assert.Contains("[25, 4, 128]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateKeyConvWeights_WrongShape_ThrowsNamingWeights()
    {
        var config = Config with { KeyConvWidth = 3 };
        var dims = AttentionShapes.Validate([25, 4, 64], [30, 2, 64], [30, 2, 64], Batch, config);
        AttentionShapes.ValidateKeyConvWeights([3, 2, 64], dims, config);
        var ex = Assert.Throws<ArgumentException>(() => AttentionShapes.ValidateKeyConvWeights([5, 2, 64], dims, config));
        Assert.Equal("weights", ex.ParamName);
    }

    [Fact]
    public void ValidateKeyConvWeights_NoWidthConfigured_ThrowsNamingConfig()
    {
        var dims = Validate([25, 4, 64], [30, 2, 64], [30, 2, 64]);
        var ex = Assert.Throws<ArgumentException>(() => AttentionShapes.ValidateKeyConvWeights([3, 2, 64], dims, Config));
        Assert.Equal("config", ex.ParamName);
    }
}
