using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Cli.Devices;

/// <summary>
/// The accelerator a verb runs on, created in one place through the library's <see cref="AcceleratorHost"/>
/// (CUDA with the speed settings of DESIGN.md §5, or the CPU accelerator with 32-lane warps).
/// </summary>
internal sealed class DeviceSession : IDisposable
{
    private readonly AcceleratorHost _host;

    private DeviceSession(AcceleratorHost host) => _host = host;

    /// <summary>The ILGPU context.</summary>
    public Context Context => _host.Context;

    /// <summary>The accelerator the verb runs on.</summary>
    public Accelerator Accelerator => _host.Accelerator;

    /// <summary>True when <see cref="Accelerator"/> is a CUDA GPU.</summary>
    public bool IsCuda => _host.IsCuda;

    /// <summary>Short device label for tables: "cuda: NVIDIA H200" or "cpu (ILGPU CPU accelerator)".</summary>
    public string Label => IsCuda ? $"cuda: {Accelerator.Name}" : "cpu (ILGPU CPU accelerator)";

    /// <summary>Opens the chosen accelerator.</summary>
    /// <param name="choice">Which kind of accelerator.</param>
    /// <param name="profiling">Enables profiling markers (CUDA events); only for timing.</param>
    /// <exception cref="UsageException"><paramref name="choice"/> is <see cref="DeviceChoice.Cuda"/> and no CUDA device exists.</exception>
    public static DeviceSession Open(DeviceChoice choice, bool profiling)
    {
        var library = choice switch
        {
            DeviceChoice.Cuda => AcceleratorChoice.Cuda,
            DeviceChoice.Cpu => AcceleratorChoice.Cpu,
            _ => AcceleratorChoice.Auto,
        };
        try
        {
            return new DeviceSession(AcceleratorHost.Create(library, profiling: profiling));
        }
        catch (InvalidOperationException ex) when (choice == DeviceChoice.Cuda)
        {
            throw new UsageException($"--device cuda: {ex.Message}", ex);
        }
    }

    /// <summary>Bytes of device memory in use right now (CUDA: total − free from the driver), or null on the CPU.</summary>
    public long? DeviceMemoryInUse()
    {
        if (!IsCuda) return null;
        using var binding = Accelerator.BindScoped();
        return CudaAPI.CurrentAPI.GetMemoryInfo(out long free, out long total) == CudaError.CUDA_SUCCESS
            ? total - free
            : null;
    }

    /// <inheritdoc/>
    public void Dispose() => _host.Dispose();
}
