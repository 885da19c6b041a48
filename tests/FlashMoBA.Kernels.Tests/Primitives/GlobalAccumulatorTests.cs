using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Tests.Infrastructure;

namespace FlashMoBA.Kernels.Tests.Primitives;

[Collection(AcceleratorCollection.Name)]
public sealed class GlobalAccumulatorTests(AcceleratorFixture fixture)
{
    [Fact]
    public void Constructor_RecordsTheViewsAddress()
    {
        using var buffer = fixture.Accelerator.Allocate1D<float>(64);
        var whole = new GlobalAccumulator(buffer.View);
        var shifted = new GlobalAccumulator(buffer.View.SubView(4, 8));
        Assert.Equal(buffer.View.Length, whole.View.Length);
        Assert.Equal(whole.Address + 4 * sizeof(float), shifted.Address);
    }

    /// <summary>Four floats are one 16-byte reduction: a view starting off a multiple of four elements cannot take one.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    public void Constructor_RejectsAViewOffTheSixteenByteGrid(int firstElement)
    {
        using var buffer = fixture.Accelerator.Allocate1D<float>(64);
        var error = Assert.Throws<ArgumentException>(() => new GlobalAccumulator(buffer.View.SubView(firstElement, 8)));
        Assert.Equal("view", error.ParamName);
        Assert.Contains("16-byte", error.Message, StringComparison.Ordinal);
    }
}
