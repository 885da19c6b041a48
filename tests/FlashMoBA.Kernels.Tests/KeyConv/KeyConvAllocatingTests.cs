using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.KeyConv;

/// <summary>The overloads that allocate their outputs compute the same as the explicit-output ones.</summary>
[Collection(AcceleratorCollection.Name)]
public sealed class KeyConvAllocatingTests(AcceleratorFixture fixture)
{
    [Fact]
    public void ForwardAllocating_MatchesReference()
    {
        var testCase = KeyConvCase.Create(ElementType.BFloat16, 5, 2, 64, [2, 19, 6], seed: 21);
        var accelerator = fixture.Accelerator;
        using var k = KeyConvRunner.Upload<BFloat16>(accelerator, testCase.KBits);
        using var cuSeqlensK = accelerator.Allocate1D(testCase.CuSeqlensK);
        using var weights = accelerator.Allocate1D(testCase.Weights);

        using var kOut = KeyConvolution.Forward(accelerator.DefaultStream, k.View, cuSeqlensK.View, weights.View,
            testCase.Shape);
        accelerator.Synchronize();

        double[] expected = KeyConvReference.Forward(testCase.CuSeqlensK, 2, 64, testCase.K, testCase.WeightsExact, 5);
        KeyConvAssert.Close(expected, StoredBits.Widen(KeyConvRunner.Download(kOut), ElementType.BFloat16),
            KeyConvTolerances.RoundingsAllowed * StoredBits.UnitRoundoff(ElementType.BFloat16),
            KeyConvTolerances.Fp32MathFloor, "k′ (allocating)");
    }

    [Fact]
    public void BackwardAllocating_EqualsExplicitScratchWithDefaults()
    {
        var testCase = KeyConvCase.Create(ElementType.Float16, 3, 2, 64, [11, 1, 24], seed: 22);
        var accelerator = fixture.Accelerator;
        using var k = KeyConvRunner.Upload<ILGPU.Half>(accelerator, testCase.KBits);
        using var dKPrime = KeyConvRunner.Upload<ILGPU.Half>(accelerator, testCase.DKPrimeBits);
        using var cuSeqlensK = accelerator.Allocate1D(testCase.CuSeqlensK);
        using var weights = accelerator.Allocate1D(testCase.Weights);

        var (dK, dW) = KeyConvolution.Backward(accelerator.DefaultStream, k.View, cuSeqlensK.View, weights.View,
            dKPrime.View, testCase.Shape);
        using (dK)
        using (dW)
        {
            var explicitResult = KeyConvRunner.Backward(accelerator, testCase, runLength: null, partials: null);
            Assert.Equal(explicitResult.DK, KeyConvRunner.Download(dK));
            Assert.Equal(explicitResult.DW, dW.GetAsArray1D());
        }
    }
}
