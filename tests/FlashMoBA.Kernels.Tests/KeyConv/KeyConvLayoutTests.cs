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

    [Theory]
    [InlineData(131072, 29, 512)]   // the H200 bench: capped at the measured best
    [InlineData(20000, 29, 173)]    // small: one run per warp
    [InlineData(100, 3, 32)]        // tiny: the minimum
    [InlineData(1, 1, 32)]
    public void DefaultRunLength_KeepsEveryWarpBusyWithinTheBounds(int totalK, int partials, int expected)
    {
        int runLength = KeyConvBackward.DefaultRunLength(totalK, partials);

        Assert.Equal(expected, runLength);
        int runs = (totalK + runLength - 1) / runLength;
        if (runLength < KeyConvBackward.MaxRunLength && runLength > KeyConvBackward.MinRunLength)
            Assert.True(runs <= partials * KeyConvBackward.Warps, $"{runs} runs for {partials * KeyConvBackward.Warps} warps.");
    }

    [Fact]
    public void HeadDimRule_MakesRowsWholeVectors()
    {
        // HeadDim % 8 == 0 is the validated rule; both kernels need whole vectors per row.
        Assert.Equal(0, 8 % KeyConvForward.LanesPerThread);
        Assert.Equal(0, 8 % KeyConvBackward.LanesPerThread);
    }
}
