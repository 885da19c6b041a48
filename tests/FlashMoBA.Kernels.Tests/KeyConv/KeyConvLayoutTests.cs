using FlashMoBA.Kernels.KeyConv;
using ILGPU;

namespace FlashMoBA.Kernels.Tests.KeyConv;

/// <summary>Invariants the kernels' tile constants rely on (C# has no static asserts).</summary>
public sealed class KeyConvLayoutTests
{
    [Fact]
    public void PackedVectors_AreOneVectorLoadOfTheirLanes()
    {
        Assert.Equal(2 * KeyConvForward.LanesPerThread, Interop.SizeOf<PackedHalves8>());
        Assert.Equal(16, Interop.SizeOf<PackedHalves8>());
        Assert.Equal(2 * KeyConvBackward.LanesPerThread, Interop.SizeOf<PackedHalves2>());
        Assert.Equal(4 * KeyConvForward.LanesPerThread, Interop.SizeOf<Lanes8>());
        Assert.Equal(4 * KeyConvBackward.LanesPerThread, Interop.SizeOf<Lanes2>());
    }

    [Fact]
    public void BackwardDwFold_FitsStaticSharedMemory()
    {
        int foldBytes = KeyConvBackward.Warps * KeyConvBackward.MaxTaps * 32 * Interop.SizeOf<Lanes2>();
        Assert.True(foldBytes <= 48 * 1024, $"{foldBytes} bytes exceed the 48 KB static shared-memory limit.");
    }

    [Fact]
    public void HeadDimRule_MakesRowsWholeVectors()
    {
        // HeadDim % 8 == 0 is the validated rule; both kernels need whole vectors per row.
        Assert.Equal(0, 8 % KeyConvForward.LanesPerThread);
        Assert.Equal(0, 8 % KeyConvBackward.LanesPerThread);
    }
}
