using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.KeyConv;

/// <summary>Bad arguments raise <see cref="ArgumentException"/> naming the argument, before any launch.</summary>
[Collection(AcceleratorCollection.Name)]
public sealed class KeyConvValidationTests(AcceleratorFixture fixture) : IDisposable
{
    // Two sequences of 3 and 5 tokens, Hk = 2, d = 8: 16 channels.
    private static readonly KeyConvShape Shape = new(2, 8, 2, 8, 3);

    private readonly MemoryBuffer1D<ILGPU.Half, Stride1D.Dense> k = fixture.Accelerator.Allocate1D<ILGPU.Half>(Shape.KeyElements + 16);
    private readonly MemoryBuffer1D<ILGPU.Half, Stride1D.Dense> kOut = KeyConvRunner.Poisoned(
        fixture.Accelerator, Shape.KeyElements, KeyConvRunner.NaNOf<ILGPU.Half>(ElementType.Float16));
    private readonly MemoryBuffer1D<int, Stride1D.Dense> cuSeqlensK = fixture.Accelerator.Allocate1D(new[] { 0, 3, 8 });
    private readonly MemoryBuffer1D<float, Stride1D.Dense> weights = fixture.Accelerator.Allocate1D<float>(5 * 16);
    private readonly MemoryBuffer1D<float, Stride1D.Dense> dW = fixture.Accelerator.Allocate1D<float>(3 * 16);
    private readonly MemoryBuffer1D<float, Stride1D.Dense> scratch = fixture.Accelerator.Allocate1D<float>(4 * 3 * 16);

    private AcceleratorStream Stream => fixture.Accelerator.DefaultStream;

    private ArrayView<ILGPU.Half> K => k.View.SubView(0, Shape.KeyElements);

    private ArrayView<float> Weights => weights.View.SubView(0, Shape.WeightElements);

    public static TheoryData<int, int, int, int, int> BadShapes => new()
    {
        { 2, 8, 2, 8, 4 },    // width not 3 or 5
        { 2, 8, 2, 8, 1 },
        { 0, 8, 2, 8, 3 },    // no sequence
        { 2, -1, 2, 8, 3 },   // negative total
        { 2, 8, 0, 8, 3 },    // no KV head
        { 2, 8, 2, 12, 3 },   // head dim not a multiple of 8
        { 2, 8, 2, 0, 3 },
        { 2, 1 << 24, 64, 128, 3 }, // more than 2^31 elements
    };

    [Theory]
    [MemberData(nameof(BadShapes))]
    public void Forward_BadShape_ThrowsNamingShape(int batch, int totalK, int headsKv, int headDim, int width)
    {
        var shape = new KeyConvShape(batch, totalK, headsKv, headDim, width);

        var error = Assert.ThrowsAny<ArgumentException>(
            () => KeyConvolution.Forward(Stream, K, cuSeqlensK.View, Weights, shape, kOut.View));

        Assert.Equal("shape", error.ParamName);
    }

    [Fact]
    public void Forward_WidthFour_MessageStatesTheRule()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => KeyConvolution.Forward(
            Stream, K, cuSeqlensK.View, Weights, Shape with { Width = 4 }, kOut.View));

        Assert.Contains("must be 3 or 5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Forward_KeysOfWrongLength_ThrowsNamingK() =>
        AssertForwardRejects("k", () => KeyConvolution.Forward(
            Stream, k.View.SubView(0, Shape.KeyElements - 8), cuSeqlensK.View, Weights, Shape, kOut.View));

    [Fact]
    public void Forward_KeysNotSixteenByteAligned_ThrowsNamingK() =>
        AssertForwardRejects("k", () => KeyConvolution.Forward(
            Stream, k.View.SubView(1, Shape.KeyElements), cuSeqlensK.View, Weights, Shape, kOut.View));

    [Fact]
    public void Forward_CuSeqlensOfWrongLength_ThrowsNamingCuSeqlensK() =>
        AssertForwardRejects("cuSeqlensK", () => KeyConvolution.Forward(
            Stream, K, cuSeqlensK.View.SubView(0, 2), Weights, Shape, kOut.View));

    [Fact]
    public void Forward_WeightsForAnotherWidth_ThrowsNamingWeights() =>
        AssertForwardRejects("weights", () => KeyConvolution.Forward(
            Stream, K, cuSeqlensK.View, weights.View, Shape, kOut.View));

    [Fact]
    public void Forward_OutputOverlapsInput_ThrowsNamingKOut() =>
        AssertForwardRejects("kOut", () => KeyConvolution.Forward(
            Stream, K, cuSeqlensK.View, Weights, Shape, k.View.SubView(8, Shape.KeyElements)));

    [Fact]
    public void Forward_RunLengthZero_ThrowsNamingRunLength() =>
        AssertForwardRejects("runLength", () => KeyConvolution.Forward(
            Stream, K, cuSeqlensK.View, Weights, Shape, kOut.View, runLength: 0));

    [Fact]
    public void Forward_FloatKeys_ThrowsNamingK()
    {
        using var floats = fixture.Accelerator.Allocate1D<float>(Shape.KeyElements);
        using var floatsOut = fixture.Accelerator.Allocate1D<float>(Shape.KeyElements);

        var error = Assert.ThrowsAny<ArgumentException>(() => KeyConvolution.Forward(
            Stream, floats.View, cuSeqlensK.View, Weights, Shape, floatsOut.View));

        Assert.Equal("k", error.ParamName);
    }

    [Fact]
    public void Backward_DwOfWrongLength_ThrowsNamingDw() =>
        AssertBackwardRejects("dW", dW.View.SubView(0, 40), scratch.View, partials: 1);

    [Fact]
    public void Backward_NoPartials_ThrowsNamingPartials() =>
        AssertBackwardRejects("partials", dW.View, scratch.View, partials: 0);

    [Fact]
    public void Backward_ScratchTooSmallForPartials_ThrowsNamingDwPartials() =>
        AssertBackwardRejects("dwPartials", dW.View, scratch.View, partials: 5);

    [Fact]
    public void Backward_NegativeL2PrefetchRows_ThrowsNamingIt() =>
        AssertBackwardRejects("l2PrefetchRows", dW.View, scratch.View, partials: 1, l2PrefetchRows: -1);

    [Fact]
    public void Backward_GradientOverlapsUpstreamGradient_ThrowsNamingDK()
    {
        using var dKPrime = fixture.Accelerator.Allocate1D<ILGPU.Half>(Shape.KeyElements);

        var error = Assert.ThrowsAny<ArgumentException>(() => KeyConvolution.Backward(Stream, K, cuSeqlensK.View,
            Weights, dKPrime.View, Shape, dKPrime.View, dW.View, scratch.View, 1));

        Assert.Equal("dK", error.ParamName);
    }

    public void Dispose()
    {
        k.Dispose();
        kOut.Dispose();
        cuSeqlensK.Dispose();
        weights.Dispose();
        dW.Dispose();
        scratch.Dispose();
    }

    /// <summary>Also checks that nothing ran: the NaN-poisoned output is untouched.</summary>
    private void AssertForwardRejects(string paramName, Action call)
    {
        var error = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(paramName, error.ParamName);
        fixture.Accelerator.Synchronize();
        Assert.All(KeyConvRunner.Download(kOut), bits => Assert.Equal(StoredBits.NaN(ElementType.Float16), bits));
    }

    private void AssertBackwardRejects(string paramName, ArrayView<float> dWView, ArrayView<float> scratchView,
        int partials, int l2PrefetchRows = KeyConvBackward.DefaultL2PrefetchRows)
    {
        using var dKPrime = fixture.Accelerator.Allocate1D<ILGPU.Half>(Shape.KeyElements);
        var error = Assert.ThrowsAny<ArgumentException>(() => KeyConvolution.Backward(Stream, K, cuSeqlensK.View,
            Weights, dKPrime.View, Shape, kOut.View, dWView, scratchView, partials, l2PrefetchRows: l2PrefetchRows));
        Assert.Equal(paramName, error.ParamName);
        fixture.Accelerator.Synchronize();
        Assert.All(KeyConvRunner.Download(kOut), bits => Assert.Equal(StoredBits.NaN(ElementType.Float16), bits));
    }
}
