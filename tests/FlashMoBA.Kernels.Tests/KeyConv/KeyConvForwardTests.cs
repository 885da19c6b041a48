using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.KeyConv;

[Collection(AcceleratorCollection.Name)]
public sealed class KeyConvForwardTests(AcceleratorFixture fixture)
{
    [Theory]
    // Lengths 1 and 2 are shorter than W; runs of 4 tokens span up to three sequences.
    [InlineData(ElementType.Float16, 3, 2, 64, new[] { 1, 2, 9, 17 }, 4)]
    [InlineData(ElementType.BFloat16, 3, 2, 64, new[] { 1, 2, 9, 17 }, 4)]
    // 512 channels = two 256-channel warp tiles; lengths 3 and 1 are shorter than W = 5.
    [InlineData(ElementType.Float16, 5, 4, 128, new[] { 3, 1, 13, 6 }, 4)]
    // An empty sequence between others; runs of 8.
    [InlineData(ElementType.BFloat16, 5, 2, 128, new[] { 4, 0, 21, 1 }, 8)]
    // One KV head (MQA layout), default run length: a run covers whole sequences.
    [InlineData(ElementType.Float16, 5, 1, 64, new[] { 40, 3, 7 }, 32)]
    [InlineData(ElementType.BFloat16, 3, 4, 64, new[] { 7, 30 }, 32)]
    public void Forward_RaggedVarlen_MatchesReference(ElementType elementType, int width, int headsKv, int headDim,
        int[] lengths, int runLength)
    {
        var testCase = KeyConvCase.Create(elementType, width, headsKv, headDim, lengths, seed: 7 + width + headsKv);

        var kOut = KeyConvRunner.Forward(fixture.Accelerator, testCase, runLength);

        double[] expected = KeyConvReference.Forward(testCase.CuSeqlensK, headsKv, headDim, testCase.K,
            testCase.WeightsExact, width);
        KeyConvAssert.Close(expected, StoredBits.Widen(kOut, elementType),
            KeyConvTolerances.RoundingsAllowed * StoredBits.UnitRoundoff(elementType),
            KeyConvTolerances.Fp32MathFloor, $"k′ {elementType} W={width}");
    }

    [Fact]
    public void Forward_DiffersFromIdentity_SoTheConvolutionIsExercised()
    {
        var testCase = KeyConvCase.Create(ElementType.Float16, 3, 2, 64, [5, 6], seed: 3);

        var kOut = StoredBits.Widen(KeyConvRunner.Forward(fixture.Accelerator, testCase, 4), ElementType.Float16);

        double meanShift = kOut.Zip(testCase.K, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanShift > 0.05, $"mean |k′ − k| = {meanShift}: the SiLU term is missing.");
    }
}
