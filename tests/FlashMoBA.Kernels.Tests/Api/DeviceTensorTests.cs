using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Api;

[Collection(AcceleratorCollection.Name)]
public sealed class DeviceTensorTests(AcceleratorFixture fixture)
{
    [Fact]
    public void Upload_Download_RoundTripsHalf()
    {
        var random = new Random(7);
        var data = new Half[2 * 3 * 4];
        for (int i = 0; i < data.Length; i++) data[i] = (Half)(random.NextDouble() * 4 - 2);

        using var tensor = DeviceTensor<Half>.Upload(fixture.Accelerator, data, 2, 3, 4);

        Assert.Equal([2, 3, 4], tensor.Shape.ToArray());
        Assert.Equal(3, tensor.Rank);
        Assert.Equal(24, tensor.Length);
        Assert.Equal(48, tensor.SizeInBytes);
        Assert.Equal(ElementType.Float16, tensor.ElementType);
        Assert.Equal(data, tensor.Download());
    }

    [Fact]
    public void CopyFrom_OverwritesContents()
    {
        using var tensor = DeviceTensor<BFloat16>.Allocate(fixture.Accelerator, 5);
        var data = Enumerable.Range(0, 5).Select(i => BFloat16.FromFloat(i * 0.75f - 1)).ToArray();

        tensor.CopyFrom(data);
        var back = new BFloat16[5];
        tensor.CopyTo(back);

        Assert.Equal(data, back);
        Assert.Equal(ElementType.BFloat16, tensor.ElementType);
    }

    [Fact]
    public void ElementType_OfFloatAndIlgpuHalf()
    {
        using var lse = DeviceTensor<float>.Allocate(fixture.Accelerator, 2, 3);
        using var half = DeviceTensor<ILGPU.Half>.Allocate(fixture.Accelerator, 1);
        Assert.Null(lse.ElementType);
        Assert.Equal(ElementType.Float16, half.ElementType);
    }

    [Fact]
    public void Wrap_TakesOwnershipOfABuffer()
    {
        var buffer = fixture.Accelerator.Allocate1D(new[] { 1f, 2f, 3f, 4f, 5f, 6f });
        using var tensor = DeviceTensor<float>.Wrap(buffer, 2, 3);
        Assert.Equal([2, 3], tensor.Shape.ToArray());
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], tensor.Download());
        var ex = Assert.Throws<ArgumentException>(() => DeviceTensor<float>.Wrap(buffer, 4, 2));
        Assert.Equal("shape", ex.ParamName);
    }

    [Fact]
    public void Upload_LengthMismatch_ThrowsNamingData()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            DeviceTensor<float>.Upload(fixture.Accelerator, new float[5], 2, 3));
        Assert.Equal("data", ex.ParamName);
    }

    [Fact]
    public void Allocate_NegativeDimension_ThrowsNamingShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => DeviceTensor<float>.Allocate(fixture.Accelerator, 2, -1));
        Assert.Equal("shape", ex.ParamName);
    }

    [Fact]
    public void CopyTo_WrongLength_ThrowsNamingDestination()
    {
        using var tensor = DeviceTensor<float>.Allocate(fixture.Accelerator, 4);
        var ex = Assert.Throws<ArgumentException>(() => tensor.CopyTo(new float[3]));
        Assert.Equal("destination", ex.ParamName);
    }

    [Fact]
    public void Dispose_ThenUse_ThrowsObjectDisposed()
    {
        var tensor = DeviceTensor<float>.Allocate(fixture.Accelerator, 4);
        tensor.Dispose();
        Assert.True(tensor.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => tensor.Download());
    }

    [Fact]
    public void Validate_DeviceTensorsOfWrongElementType_ThrowsNamingQ()
    {
        var batch = VarlenBatch.Uniform(1, 3);
        using var q = DeviceTensor<Half>.Allocate(fixture.Accelerator, 3, 2, 64);
        using var k = DeviceTensor<Half>.Allocate(fixture.Accelerator, 3, 2, 64);
        using var v = DeviceTensor<Half>.Allocate(fixture.Accelerator, 3, 2, 64);
        var config = new MobaConfig(16, 1) { ElementType = ElementType.BFloat16 };

        var ex = Assert.Throws<ArgumentException>(() => AttentionShapes.Validate(q, k, v, batch, config));
        Assert.Equal("q", ex.ParamName);
        Assert.Equal(2, AttentionShapes.Validate(q, k, v, batch, config with { ElementType = ElementType.Float16 }).Heads);
    }
}
