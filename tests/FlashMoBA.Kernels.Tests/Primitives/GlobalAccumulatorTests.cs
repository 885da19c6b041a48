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
        var shifted = new GlobalAccumulator(buffer.View.SubView(2, 8));
        Assert.Equal(buffer.View.Length, whole.View.Length);
        Assert.Equal(whole.Address + 2 * sizeof(float), shifted.Address);
    }

    /// <summary>A pair of floats is one 8-byte reduction: a view starting on an odd element cannot take one.</summary>
    [Fact]
    public void Constructor_RejectsAViewOffTheEightByteGrid()
    {
        using var buffer = fixture.Accelerator.Allocate1D<float>(64);
        var error = Assert.Throws<ArgumentException>(() => new GlobalAccumulator(buffer.View.SubView(1, 8)));
        Assert.Equal("view", error.ParamName);
        Assert.Contains("8-byte", error.Message, StringComparison.Ordinal);
    }
}
