using FlashMoBA.Kernels.Runtime;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace FlashMoBA.Kernels.Tests.Runtime;

public sealed class AcceleratorHostTests
{
    [Fact]
    public void Create_Cpu_GivesThirtyTwoLaneWarpsAndTheSharedKernelCache()
    {
        using var host = AcceleratorHost.Create(AcceleratorChoice.Cpu, cpuWarpsPerGroup: 4);
        Assert.False(host.IsCuda);
        var cpu = Assert.IsType<CPUAccelerator>(host.Accelerator);
        Assert.Equal(32, cpu.WarpSize);
        Assert.Equal(4 * 32, cpu.MaxNumThreadsPerGroup);
        Assert.Same(KernelCache.For(host.Accelerator), host.Kernels);
    }

    [Fact]
    public void Create_Cuda_AgreesWithAuto_ThrowsWhenThereIsNoGpu()
    {
        bool gpu;
        using (var auto = AcceleratorHost.Create(AcceleratorChoice.Auto)) gpu = auto.IsCuda;
        if (!gpu)
        {
            Assert.Throws<InvalidOperationException>(() => AcceleratorHost.Create(AcceleratorChoice.Cuda));
            return;
        }
        using var host = AcceleratorHost.Create(AcceleratorChoice.Cuda);
        Assert.Equal(AcceleratorType.Cuda, host.Accelerator.AcceleratorType);
    }

    [Fact]
    public void Create_InvalidWarpCount_ThrowsNamingTheArgument()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => AcceleratorHost.Create(AcceleratorChoice.Cpu, 0));
        Assert.Equal("cpuWarpsPerGroup", error.ParamName);
    }
}
