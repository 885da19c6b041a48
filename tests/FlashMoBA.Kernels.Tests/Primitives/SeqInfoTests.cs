using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Primitives;

[Collection(AcceleratorCollection.Name)]
public sealed class SeqInfoTests(AcceleratorFixture fixture)
{
    [Fact]
    public void Load_ThirdSequence_GivesOffsetsLengthsAndBottomRightCausalLimits()
    {
        using var cuQ = fixture.Accelerator.Allocate1D(new[] { 0, 5, 12, 15 });
        using var cuK = fixture.Accelerator.Allocate1D(new[] { 0, 9, 20, 30 });
        var seq = SeqInfo.Load(cuQ.View, cuK.View, 2);
        Assert.Equal((12, 20, 3, 10), (seq.QStart, seq.KStart, seq.LenQ, seq.LenK));
        Assert.Equal(7, seq.CausalOffset);
        Assert.Equal(7, seq.LastKey(0, causal: true));
        Assert.Equal(9, seq.LastKey(2, causal: true));
        Assert.Equal(9, seq.LastKey(0, causal: false));

        // More queries than keys: the first rows see nothing (last key < 0).
        var longQuery = SeqInfo.Load(cuQ.View, cuK.View, 1);
        Assert.Equal((7, 11), (longQuery.LenQ, longQuery.LenK));
        var shortKeys = SeqInfo.Load(cuK.View, cuQ.View, 0);
        Assert.Equal(-4, shortKeys.CausalOffset);
        Assert.Equal(-1, shortKeys.LastKey(3, causal: true));
        Assert.Equal(0, shortKeys.LastKey(4, causal: true));
    }
}
