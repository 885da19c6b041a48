namespace FlashMoBA.Kernels.Tests.Api;

public sealed class MobaConfigTests
{
    [Fact]
    public void Constructor_ValidValues_KeepsDefaults()
    {
        var config = new MobaConfig(blockSize: 64, topK: 4);

        Assert.Equal(64, config.BlockSize);
        Assert.Equal(4, config.TopK);
        Assert.True(config.Causal);
        Assert.Null(config.SoftmaxScale);
        Assert.Equal(ElementType.Float16, config.ElementType);
        Assert.Null(config.KeyConvWidth);
        Assert.Null(config.HeadChunk);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void HeadChunk_NotPositive_ThrowsNamingHeadChunk(int heads)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MobaConfig(32, 2) { HeadChunk = heads });
        Assert.Equal(nameof(MobaConfig.HeadChunk), ex.ParamName);
        Assert.Contains(">= 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadChunk_PartOfEquality()
    {
        var automatic = new MobaConfig(32, 2);
        Assert.Equal(3, (automatic with { HeadChunk = 3 }).HeadChunk);
        Assert.NotEqual(automatic, automatic with { HeadChunk = 3 });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(24)]
    [InlineData(-16)]
    public void Constructor_BadBlockSize_ThrowsNamingBlockSize(int blockSize)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MobaConfig(blockSize, topK: 2));
        Assert.Equal("blockSize", ex.ParamName);
        Assert.Contains("multiple of 16", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(128)]
    public void Constructor_BlockSizeMultipleOf16_Accepted(int blockSize) =>
        Assert.Equal(blockSize, new MobaConfig(blockSize, topK: 1).BlockSize);

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65)]
    public void Constructor_TopKOutOfRange_ThrowsNamingTopK(int topK)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MobaConfig(blockSize: 32, topK));
        Assert.Equal("topK", ex.ParamName);
        Assert.Contains("1..64", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    public void Constructor_TopKAtLimits_Accepted(int topK) =>
        Assert.Equal(topK, new MobaConfig(blockSize: 32, topK).TopK);

    [Fact]
    public void With_BadTopK_ThrowsNamingProperty()
    {
        var config = new MobaConfig(32, 2);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => config with { TopK = 100 });
        Assert.Equal(nameof(MobaConfig.TopK), ex.ParamName);
    }

    [Fact]
    public void With_BadBlockSize_ThrowsNamingProperty()
    {
        var config = new MobaConfig(32, 2);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => config with { BlockSize = 40 });
        Assert.Equal(nameof(MobaConfig.BlockSize), ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(7)]
    public void KeyConvWidth_NotThreeOrFive_ThrowsNamingKeyConvWidth(int width)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MobaConfig(32, 2) { KeyConvWidth = width });
        Assert.Equal(nameof(MobaConfig.KeyConvWidth), ex.ParamName);
        Assert.Contains("3 or 5", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void KeyConvWidth_ThreeOrFive_Accepted(int width) =>
        Assert.Equal(width, new MobaConfig(32, 2) { KeyConvWidth = width }.KeyConvWidth);

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void SoftmaxScale_NotFinitePositive_ThrowsNamingSoftmaxScale(double scale)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MobaConfig(32, 2) { SoftmaxScale = scale });
        Assert.Equal(nameof(MobaConfig.SoftmaxScale), ex.ParamName);
    }

    [Fact]
    public void ElementType_Undefined_ThrowsNamingElementType()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MobaConfig(32, 2) { ElementType = (ElementType)7 });
        Assert.Equal(nameof(MobaConfig.ElementType), ex.ParamName);
    }

    [Theory]
    [InlineData(64, 0.125)]
    [InlineData(128, 0.08838834764831845)]
    public void ResolveSoftmaxScale_Default_IsInverseSqrtHeadDim(int headDim, double expected) =>
        Assert.Equal(expected, new MobaConfig(32, 2).ResolveSoftmaxScale(headDim), 15);

    [Fact]
    public void ResolveSoftmaxScale_Explicit_WinsOverDefault() =>
        Assert.Equal(0.3, new MobaConfig(32, 2) { SoftmaxScale = 0.3 }.ResolveSoftmaxScale(128));
}
