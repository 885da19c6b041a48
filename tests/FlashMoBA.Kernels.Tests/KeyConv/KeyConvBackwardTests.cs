using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.KeyConv;

[Collection(AcceleratorCollection.Name)]
public sealed class KeyConvBackwardTests(AcceleratorFixture fixture)
{
    [Theory]
    // Lengths 1 and 2 are shorter than W; runs of 4 span sequences; 3 partial rows stride over runs.
    [InlineData(ElementType.Float16, 3, 2, 64, new[] { 1, 2, 9, 17 }, 4, 3)]
    [InlineData(ElementType.BFloat16, 3, 2, 64, new[] { 1, 2, 9, 17 }, 4, 1)]
    // 512 channels = four 128-channel warp tiles; lengths 3 and 1 are shorter than W = 5.
    [InlineData(ElementType.Float16, 5, 4, 128, new[] { 3, 1, 13, 6 }, 4, 2)]
    // An empty sequence; one partial row walks several runs per warp.
    [InlineData(ElementType.BFloat16, 5, 2, 128, new[] { 4, 0, 21, 1 }, 2, 1)]
    // One KV head; the defaults: partials for the accelerator, the default run length.
    [InlineData(ElementType.Float16, 5, 1, 64, new[] { 40, 3, 7 }, null, null)]
    [InlineData(ElementType.BFloat16, 3, 4, 64, new[] { 7, 30 }, null, null)]
    // Runs of 23 rows hold whole five-row groups without masks (the walk's unmasked path) between
    // masked edges, at both widths; runs start mid-sequence and cross sequence boundaries.
    [InlineData(ElementType.BFloat16, 5, 2, 64, new[] { 52, 2, 31 }, 23, 2)]
    [InlineData(ElementType.Float16, 3, 2, 64, new[] { 3, 47, 1 }, 23, 1)]
    public void Backward_RaggedVarlen_MatchesReference(ElementType elementType, int width, int headsKv, int headDim,
        int[] lengths, int? runLength, int? partials)
    {
        var testCase = KeyConvCase.Create(elementType, width, headsKv, headDim, lengths, seed: 11 + width + headsKv);

        var (dK, dW) = KeyConvRunner.Backward(fixture.Accelerator, testCase, runLength, partials);

        var expected = KeyConvReference.Backward(testCase.CuSeqlensK, headsKv, headDim, testCase.K,
            testCase.WeightsExact, width, testCase.DKPrime);
        KeyConvAssert.Close(expected.DK, StoredBits.Widen(dK, elementType),
            KeyConvTolerances.RoundingsAllowed * StoredBits.UnitRoundoff(elementType),
            KeyConvTolerances.Fp32MathFloor, $"dK {elementType} W={width}");
        KeyConvAssert.Close(expected.DW, Array.ConvertAll(dW, w => (double)w), 0, KeyConvTolerances.DwAbsolute,
            $"dW {elementType} W={width}");
    }

    [Fact]
    public void Backward_SamePartials_GivesBitIdenticalDw()
    {
        var testCase = KeyConvCase.Create(ElementType.Float16, 5, 2, 64, [13, 2, 20], seed: 5);

        var first = KeyConvRunner.Backward(fixture.Accelerator, testCase, 4, 2);
        var second = KeyConvRunner.Backward(fixture.Accelerator, testCase, 4, 2);

        Assert.Equal(first.DW, second.DW);
        Assert.Equal(first.DK, second.DK);
    }
}
