using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace FlashMoBA.Kernels.Tests.Infrastructure;

/// <summary>
/// One ILGPU context and CPU accelerator for the whole test assembly. The CPU device uses 32-lane
/// warps like the GPU so warp-level primitives (shuffles, MMA emulation) see the real layout.
/// </summary>
public sealed class AcceleratorFixture : IDisposable
{
    /// <summary>Warps per group the CPU device allows (4 warps = 128 threads, the common CTA size).</summary>
    public const int WarpsPerGroup = 8;

    public AcceleratorFixture()
    {
        Context = Context.Create(builder => builder
            .CPU(new CPUDevice(32, WarpsPerGroup, 1))
            .EnableAlgorithms());
        Accelerator = Context.GetPreferredDevice(preferCPU: true).CreateAccelerator(Context);
    }

    public Context Context { get; }

    public Accelerator Accelerator { get; }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}

/// <summary>Tests sharing the CPU accelerator run serially in this collection.</summary>
[CollectionDefinition(Name)]
public sealed class AcceleratorCollection : ICollectionFixture<AcceleratorFixture>
{
    public const string Name = "Accelerator";
}
