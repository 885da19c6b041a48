using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU.Runtime.CPU;

namespace FlashMoBA.Kernels.Tests.Api;

/// <summary>
/// Every rule of <see cref="MobaAttention"/>'s arguments raises <see cref="ArgumentException"/> naming the
/// argument before anything is launched: each failing call writes into a result whose output is
/// poisoned with a marker, and the marker must survive.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class MobaAttentionValidationTests : IDisposable
{
    private static readonly System.Half Marker = (System.Half)1234.5f;
    private readonly AcceleratorFixture fixture;
    private readonly MobaAttention attention;
    private readonly VarlenBatch batch = VarlenBatch.FromLengths([20, 9], [24, 9]);
    private readonly MobaConfig config = new(16, 2);
    private readonly DeviceTensor<System.Half> q, k, v;
    private readonly MobaForwardResult<System.Half> result;

    public MobaAttentionValidationTests(AcceleratorFixture fixture)
    {
        this.fixture = fixture;
        attention = new MobaAttention(fixture.Accelerator);
        q = Tensor(29, 2, 64);
        k = Tensor(33, 1, 64);
        v = Tensor(33, 1, 64);
        result = attention.AllocateForward(q, k, v, batch, config);
        var marker = new System.Half[result.Output.Length];
        Array.Fill(marker, Marker);
        result.Output.CopyFrom(marker);
    }

    public void Dispose()
    {
        result.Dispose();
        q.Dispose();
        k.Dispose();
        v.Dispose();
        attention.Dispose();
    }

    [Fact]
    public void Forward_QueryRankNotThree_ThrowsNamingQ()
    {
        using var flat = Tensor(29, 128);
        AssertRejected("q", () => attention.Forward(flat, k, v, batch, config, result));
    }

    [Fact]
    public void Forward_QueryRowsDifferFromBatch_ThrowsNamingQ()
    {
        using var shortQ = Tensor(28, 2, 64);
        AssertRejected("q", () => attention.Forward(shortQ, k, v, batch, config, result));
    }

    [Fact]
    public void Forward_KeyHeadDimDiffers_ThrowsNamingK()
    {
        using var wideK = Tensor(33, 1, 128);
        AssertRejected("k", () => attention.Forward(q, wideK, v, batch, config, result));
    }

    [Fact]
    public void Forward_HeadsNotMultipleOfKvHeads_ThrowsNamingK()
    {
        using var threeK = Tensor(33, 3, 64);
        using var threeV = Tensor(33, 3, 64);
        AssertRejected("k", () => attention.Forward(q, threeK, threeV, batch, config, result));
    }

    [Fact]
    public void Forward_UnsupportedHeadDim_ThrowsNamingQ()
    {
        using var q96 = Tensor(29, 2, 96);
        using var k96 = Tensor(33, 1, 96);
        using var v96 = Tensor(33, 1, 96);
        AssertRejected("q", () => attention.Forward(q96, k96, v96, batch, config));
    }

    [Fact]
    public void Forward_ElementTypeDiffersFromConfig_ThrowsNamingQ() =>
        AssertRejected("q", () => attention.Forward(q, k, v, batch, config with { ElementType = ElementType.BFloat16 }, result));

    [Fact]
    public void Forward_KeyConvWidthWithoutWeights_ThrowsNamingWeights() =>
        AssertRejected("keyConvWeights", () => attention.Forward(q, k, v, batch, config with { KeyConvWidth = 3 }, result));

    [Fact]
    public void Forward_WeightsWithoutKeyConvWidth_ThrowsNamingWeights()
    {
        using var weights = DeviceTensor<float>.Allocate(fixture.Accelerator, 3, 1, 64);
        AssertRejected("keyConvWeights", () => attention.Forward(q, k, v, batch, config, result, weights));
    }

    [Fact]
    public void Forward_WeightsOfWrongShape_ThrowsNamingWeights()
    {
        using var weights = DeviceTensor<float>.Allocate(fixture.Accelerator, 5, 1, 64);
        var convConfig = config with { KeyConvWidth = 3 };
        AssertRejected("keyConvWeights", () => attention.Forward(q, k, v, batch, convConfig, weights).Dispose());
    }

    [Fact]
    public void Forward_ResultOfAnotherProblem_ThrowsNamingResult() =>
        AssertRejected("result", () => attention.Forward(q, k, v, batch, config with { TopK = 3 }, result));

    [Fact]
    public void Forward_TensorOnAnotherAccelerator_ThrowsNamingV()
    {
        using var context = ILGPU.Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 1)));
        using var other = context.GetCPUDevice(0).CreateAccelerator(context);
        using var foreignV = DeviceTensor<System.Half>.Allocate(other, 33, 1, 64);
        AssertRejected("v", () => attention.Forward(q, k, foreignV, batch, config, result));
    }

    [Theory]
    [InlineData(0, 2)]    // block 2 does not exist in sequence 0 (24 keys, B = 16: blocks 0 and 1)
    [InlineData(1, -2)]   // only −1 marks an unused slot
    public void ForwardWithSelection_BlockOutOfRange_ThrowsNamingSelection(int slot, int block)
    {
        int[] selection = EmptySelection();
        selection[slot] = block;
        AssertRejected("topkIndex", () => attention.ForwardWithSelection(q, k, v, batch, config, selection, result));
    }

    [Fact]
    public void ForwardWithSelection_BlockTwiceInOneRow_ThrowsNamingSelection()
    {
        int[] selection = EmptySelection();
        selection[2] = 1;
        selection[3] = 1;
        AssertRejected("topkIndex", () => attention.ForwardWithSelection(q, k, v, batch, config, selection, result));
    }

    [Fact]
    public void ForwardWithSelection_WrongLength_ThrowsNamingSelection() =>
        AssertRejected("topkIndex", () => attention.ForwardWithSelection(q, k, v, batch, config, new int[7], result));

    [Fact]
    public void Backward_OutputGradientOfWrongShape_ThrowsNamingDOut()
    {
        using var dOut = Tensor(29, 2, 128);
        using var gradients = attention.AllocateGradients(q, k, v, batch, config);
        AssertRejected("dOut", () => attention.Backward(dOut, q, k, v, result, batch, config, gradients));
    }

    [Fact]
    public void Backward_ForwardOfAnotherProblem_ThrowsNamingForward()
    {
        using var dOut = Tensor(29, 2, 64);
        var causalFree = config with { Causal = false };
        using var gradients = attention.AllocateGradients(q, k, v, batch, causalFree);
        AssertRejected("forward", () => attention.Backward(dOut, q, k, v, result, batch, causalFree, gradients));
    }

    [Fact]
    public void Backward_DisposedForward_ThrowsObjectDisposed()
    {
        using var dOut = Tensor(29, 2, 64);
        var forward = attention.AllocateForward(q, k, v, batch, config);
        forward.Dispose();
        Assert.Throws<ObjectDisposedException>(() => attention.Backward(dOut, q, k, v, forward, batch, config).Dispose());
    }

    private DeviceTensor<System.Half> Tensor(params int[] shape) => DeviceTensor<System.Half>.Allocate(fixture.Accelerator, shape);

    private int[] EmptySelection()
    {
        var selection = new int[batch.TotalQ * 2 * config.TopK];
        Array.Fill(selection, -1);
        return selection;
    }

    /// <summary>The call throws ArgumentException naming <paramref name="paramName"/>, and nothing ran.</summary>
    private void AssertRejected(string paramName, Action call)
    {
        var error = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(paramName, error.ParamName);
        attention.Synchronize();
        Assert.All(result.Output.Download(), value => Assert.Equal(Marker, value));
    }
}
