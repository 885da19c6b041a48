using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Tests.Infrastructure;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>The dense backward adds 16-byte vectors into its dQ accumulator: a view off that grid is refused before any launch.</summary>
[Collection(AcceleratorCollection.Name)]
public sealed class DenseBackwardAccumulatorTests(AcceleratorFixture fixture)
{
    [Fact]
    public void RequireAlignedAccumulator_AcceptsAllocationsAndRejectsViewsOffTheSixteenByteGrid()
    {
        using var buffer = fixture.Accelerator.Allocate1D<float>(64);
        DenseBackward.RequireAlignedAccumulator(buffer.View, "dqAccumulator");
        DenseBackward.RequireAlignedAccumulator(buffer.View.SubView(4, 16), "dqAccumulator");

        var error = Assert.Throws<ArgumentException>(
            () => DenseBackward.RequireAlignedAccumulator(buffer.View.SubView(2, 16), "dqAccumulator"));
        Assert.Equal("dqAccumulator", error.ParamName);
        Assert.Contains("16-byte", error.Message, StringComparison.Ordinal);
    }
}
