using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Runtime;

[Collection(AcceleratorCollection.Name)]
public sealed class KernelCacheTests(AcceleratorFixture fixture)
{
    internal readonly struct FillArgs(ArrayView<int> output, int value)
    {
        public readonly ArrayView<int> Output = output;
        public readonly int Value = value;
    }

    internal interface IOffset
    {
        int Offset { get; }
    }

    internal readonly struct OffsetOne : IOffset
    {
        public int Offset => 1;
    }

    internal readonly struct OffsetTen : IOffset
    {
        public int Offset => 10;
    }

    /// <summary>Writes value + offset (a compile-time specialisation) to every element.</summary>
    internal static void FillKernel<TOffset>(FillArgs args)
        where TOffset : struct, IOffset
    {
        int index = Grid.GlobalIndex.X;
        if (index < args.Output.IntLength) args.Output[index] = args.Value + default(TOffset).Offset;
    }

    /// <summary>Stages values through dynamic shared memory, reversed within the group.</summary>
    internal static void ReverseKernel(FillArgs args)
    {
        var shared = SharedMemory.GetDynamic<int>();
        shared[Group.IdxX] = args.Output[Grid.GlobalIndex.X];
        Group.Barrier();
        args.Output[Grid.GlobalIndex.X] = shared[Group.DimX - 1 - Group.IdxX];
    }

    [Fact]
    public void Get_SameSpecialisation_ReturnsSameKernel_DifferentOnesDiffer()
    {
        var cache = KernelCache.For(fixture.Accelerator);
        Assert.Same(cache, KernelCache.For(fixture.Accelerator));
        var one = cache.Get<FillArgs>(typeof(KernelCacheTests), nameof(FillKernel), typeof(OffsetOne));
        Assert.Same(one, cache.Get<FillArgs>(typeof(KernelCacheTests), nameof(FillKernel), typeof(OffsetOne)));
        var ten = cache.Get<FillArgs>(typeof(KernelCacheTests), nameof(FillKernel), typeof(OffsetTen));
        Assert.NotSame(one, ten);
        Assert.Contains("OffsetTen", ten.Name, StringComparison.Ordinal);

        using var buffer = fixture.Accelerator.Allocate1D<int>(100);
        ten.Launch(fixture.Accelerator.DefaultStream, new KernelConfig(4, 32), new FillArgs(buffer.View, 5));
        Assert.All(buffer.GetAsArray1D(), v => Assert.Equal(15, v));
        one.Launch(fixture.Accelerator.DefaultStream, new KernelConfig(4, 32), new FillArgs(buffer.View, 5));
        Assert.All(buffer.GetAsArray1D(), v => Assert.Equal(6, v));
    }

    [Fact]
    public void Launch_DynamicSharedMemory_IsVisibleToTheGroup()
    {
        var kernel = KernelCache.For(fixture.Accelerator).Get<FillArgs>(typeof(KernelCacheTests), nameof(ReverseKernel));
        var values = Enumerable.Range(0, 64).ToArray();
        using var buffer = fixture.Accelerator.Allocate1D(values);
        kernel.Launch(fixture.Accelerator.DefaultStream,
            new KernelConfig(new Index3D(2, 1, 1), new Index3D(32, 1, 1), SharedMemoryConfig.RequestDynamic<int>(32)),
            new FillArgs(buffer.View, 0));
        var result = buffer.GetAsArray1D();
        for (int i = 0; i < 64; i++) Assert.Equal((i / 32) * 32 + 31 - i % 32, result[i]);
    }

    [Fact]
    public void Get_WrongArgumentsOrOpenGeneric_Throws()
    {
        var cache = KernelCache.For(fixture.Accelerator);
        var error = Assert.Throws<ArgumentException>(() =>
            cache.Get<int>(typeof(KernelCacheTests), nameof(ReverseKernel)));
        Assert.Equal("kernel", error.ParamName);
        var open = typeof(KernelCacheTests).GetMethod(nameof(FillKernel),
            System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
        Assert.Equal("kernel", Assert.Throws<ArgumentException>(() => cache.Get<FillArgs>(open)).ParamName);
    }

    [Fact]
    public void Launch_GroupLargerThanDevice_ThrowsBeforeLaunch()
    {
        var kernel = KernelCache.For(fixture.Accelerator).Get<FillArgs>(typeof(KernelCacheTests), nameof(ReverseKernel));
        using var buffer = fixture.Accelerator.Allocate1D<int>(64);
        int tooMany = fixture.Accelerator.MaxNumThreadsPerGroup + 32;
        var error = Assert.Throws<ArgumentException>(() => kernel.Launch(fixture.Accelerator.DefaultStream,
            new KernelConfig(1, tooMany), new FillArgs(buffer.View, 0)));
        Assert.Equal("config", error.ParamName);
    }
}
