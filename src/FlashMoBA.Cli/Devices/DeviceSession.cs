using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Cli.Devices;

/// <summary>
/// The one place the command creates its ILGPU context and accelerator: CUDA with the speed settings
/// of DESIGN.md §5, or the CPU accelerator with 32-lane warps like the test fixture.
/// </summary>
internal sealed class DeviceSession : IDisposable
{
    /// <summary>Warps per group on the CPU accelerator (8 warps = 256 threads, the largest CTA the kernels use).</summary>
    public const int CpuWarpsPerGroup = 8;

    /// <summary>Lanes per warp on the CPU accelerator, as on the GPU.</summary>
    public const int CpuWarpSize = 32;

    private DeviceSession(Context context, Accelerator accelerator)
    {
        Context = context;
        Accelerator = accelerator;
    }

    /// <summary>The ILGPU context (owned).</summary>
    public Context Context { get; }

    /// <summary>The accelerator the verb runs on (owned).</summary>
    public Accelerator Accelerator { get; }

    /// <summary>True when <see cref="Accelerator"/> is a CUDA GPU.</summary>
    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>Short device label for tables: "cuda: NVIDIA H200" or "cpu".</summary>
    public string Label => IsCuda ? $"cuda: {Accelerator.Name}" : "cpu (ILGPU CPU accelerator)";

    /// <summary>Opens the chosen accelerator.</summary>
    /// <param name="choice">Which kind of accelerator.</param>
    /// <param name="profiling">Enables profiling markers (CUDA events); only for timing.</param>
    /// <exception cref="UsageException"><paramref name="choice"/> is <see cref="DeviceChoice.Cuda"/> and no CUDA device exists.</exception>
    public static DeviceSession Open(DeviceChoice choice, bool profiling)
    {
        InstallCudaDriverResolver();
        var context = CreateContext(profiling, includeCuda: choice != DeviceChoice.Cpu);
        try
        {
            var cuda = context.GetCudaDevices();
            Device device;
            if (choice == DeviceChoice.Cpu || (choice == DeviceChoice.Auto && cuda.Count == 0))
                device = context.GetCPUDevices()[0];
            else if (cuda.Count > 0)
                device = cuda[0];
            else
                throw new UsageException("--device cuda: no CUDA device found (is the NVIDIA driver installed?)");
            return new DeviceSession(context, device.CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Creates a context that sees every device (for <c>info</c>); the caller disposes it.</summary>
    public static Context CreateEnumerationContext()
    {
        InstallCudaDriverResolver();
        return CreateContext(profiling: false, includeCuda: true);
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
    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }

    private static Context CreateContext(bool profiling, bool includeCuda)
    {
        return Context.Create(builder =>
        {
            if (includeCuda) builder.Cuda();
            builder.CPU(new CPUDevice(CpuWarpSize, CpuWarpsPerGroup, 1))
                .EnableAlgorithms()
                .Optimize(OptimizationLevel.O2)
                .Math(MathMode.Fast);
            if (profiling) builder.Profiling();
        });
    }

    private static int s_resolverInstalled;

    /// <summary>
    /// ILGPU loads the driver as "cuda" (libcuda.so); many driver installs only ship libcuda.so.1,
    /// and then CUDA devices silently vanish. Map the name to the versioned file when needed.
    /// </summary>
    private static void InstallCudaDriverResolver()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref s_resolverInstalled, 1) != 0) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, ResolveCuda);
        }
        catch (InvalidOperationException)
        {
            // Another component already installed a resolver for ILGPU; it owns the mapping.
        }
    }

    private static IntPtr ResolveCuda(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != "cuda" && name != "nvcuda") return IntPtr.Zero;
        foreach (string candidate in (string[])["libcuda.so", "libcuda.so.1"])
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out IntPtr handle)) return handle;
        }
        return IntPtr.Zero;
    }
}
