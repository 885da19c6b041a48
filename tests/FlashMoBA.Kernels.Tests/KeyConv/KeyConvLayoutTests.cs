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
    [InlineData(131072, 28, 1171)]  // the H200 bench at W = 5: one run per warp
    [InlineData(20000, 29, 173)]    // small: one run per warp
    [InlineData(100, 3, 32)]        // tiny: the minimum
    [InlineData(1, 1, 32)]
    public void DefaultRunLength_GivesEveryWarpOneRun(int totalK, int partials, int expected)
    {
        int runLength = KeyConvBackward.DefaultRunLength(totalK, partials);

        Assert.Equal(expected, runLength);
        int runs = (totalK + runLength - 1) / runLength;
        Assert.True(runs <= partials * KeyConvBackward.Warps, $"{runs} runs for {partials * KeyConvBackward.Warps} warps.");
        if (runLength > KeyConvBackward.MinRunLength)
            Assert.True(runs > (partials - 1) * KeyConvBackward.Warps, $"only {runs} runs for {partials} CTA rows.");
    }

    [Theory]
    [InlineData(924, 32, 131072, 28)]  // H200, W = 5: 7 CTAs × 132 SMs; 29 would leave 4 CTAs for a second wave
    [InlineData(1188, 32, 131072, 37)] // H200, W = 3: 9 CTAs × 132 SMs
    [InlineData(924, 32, 200, 2)]      // short: each warp keeps at least MinRunLength rows
    [InlineData(10, 32, 131072, 1)]    // more tiles than resident CTAs: still one row
    public void PartialsFor_FitsTheGridInOneWave(int residentCtas, int tiles, int totalK, int expected)
    {
        int partials = KeyConvBackward.PartialsFor(residentCtas, tiles, totalK);

        Assert.Equal(expected, partials);
        Assert.True(partials == 1 || partials * tiles <= residentCtas, $"{partials * tiles} CTAs for {residentCtas} slots.");
    }

    [Fact]
    public void HeadDimRule_MakesRowsWholeVectors()
    {
        // HeadDim % 8 == 0 is the validated rule; both kernels need whole vectors per row.
        Assert.Equal(0, 8 % KeyConvForward.LanesPerThread);
        Assert.Equal(0, 8 % KeyConvBackward.LanesPerThread);
    }
}
