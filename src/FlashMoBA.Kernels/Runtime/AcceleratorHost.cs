using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Runtime;

/// <summary>Which accelerator <see cref="AcceleratorHost"/> should create.</summary>
internal enum AcceleratorChoice
{
    /// <summary>The first CUDA device when one exists, else the CPU accelerator.</summary>
    Auto,

    /// <summary>The first CUDA device; fails when there is none.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator with 32-lane warps (the test configuration).</summary>
    Cpu,
}

/// <summary>
/// Owns an ILGPU <see cref="Context"/> configured for speed (DESIGN.md §5: O2, fast math, algorithms,
/// no debug or assertions), one accelerator and its <see cref="KernelCache"/>.
/// </summary>
internal sealed class AcceleratorHost : IDisposable
{
    /// <summary>Warps per group of the CPU device: 8 warps = 256 threads, the largest CTA our kernels use.</summary>
    public const int DefaultCpuWarpsPerGroup = 8;

    private static readonly Lock ResolverLock = new();
    private static bool resolverInstalled;

    private AcceleratorHost(Context context, Accelerator accelerator)
    {
        Context = context;
        Accelerator = accelerator;
        Kernels = KernelCache.For(accelerator);
    }

    /// <summary>The ILGPU context.</summary>
    public Context Context { get; }

    /// <summary>The accelerator kernels run on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The kernel cache of <see cref="Accelerator"/>.</summary>
    public KernelCache Kernels { get; }

    /// <summary>True when <see cref="Accelerator"/> is a CUDA device.</summary>
    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>
    /// Creates the context and accelerator. <paramref name="profiling"/> enables CUDA-event
    /// profiling markers (for timing only). Throws <see cref="InvalidOperationException"/> when
    /// <see cref="AcceleratorChoice.Cuda"/> is asked for and no CUDA device exists.
    /// </summary>
    public static AcceleratorHost Create(AcceleratorChoice choice = AcceleratorChoice.Auto,
        int cpuWarpsPerGroup = DefaultCpuWarpsPerGroup, bool profiling = false)
    {
        if (cpuWarpsPerGroup is < 1 or > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(cpuWarpsPerGroup), cpuWarpsPerGroup,
                "CPU warps per group must be between 1 and 32.");
        }
        if (choice != AcceleratorChoice.Cpu) InstallCudaResolver();
        var context = Context.Create(builder =>
        {
            builder.Optimize(OptimizationLevel.O2).Math(MathMode.Fast).EnableAlgorithms();
            if (profiling) builder.Profiling();
            if (choice != AcceleratorChoice.Cpu) builder.Cuda();
            builder.CPU(new CPUDevice(32, cpuWarpsPerGroup, 1));
        });
        try
        {
            Device device = Pick(context, choice);
            return new AcceleratorHost(context, device.CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }

    /// <summary>True when the kernels can run on <paramref name="device"/>: compute capability ≥ <see cref="PtxTarget.Required"/>.</summary>
    public static bool IsSupported(CudaDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return device.Architecture is { } architecture && architecture >= PtxTarget.Required;
    }

    /// <summary>The first CUDA device of <paramref name="context"/> the kernels can run on, or null.</summary>
    public static CudaDevice? FirstSupportedCuda(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var device in context.GetCudaDevices())
        {
            if (IsSupported(device))
                return device;
        }
        return null;
    }

    private static Device Pick(Context context, AcceleratorChoice choice)
    {
        var cuda = choice == AcceleratorChoice.Cpu ? null : FirstSupportedCuda(context);
        return choice switch
        {
            AcceleratorChoice.Cuda => cuda ?? throw new InvalidOperationException(
                context.GetCudaDevices().Count == 0
                    ? "No CUDA device was found (driver library missing or no GPU)."
                    : $"No CUDA device of compute capability {PtxTarget.Required} or newer was found; the kernels need it."),
            AcceleratorChoice.Auto when cuda is not null => cuda,
            _ => context.GetCPUDevice(0),
        };
    }

    /// <summary>
    /// ILGPU imports the driver as "cuda", which .NET probes as <c>libcuda.so</c>; many machines only
    /// have <c>libcuda.so.1</c> (no development symlink), and then CUDA devices silently vanish.
    /// </summary>
    private static void InstallCudaResolver()
    {
        lock (ResolverLock)
        {
            if (resolverInstalled) return;
            resolverInstalled = true;
            if (!OperatingSystem.IsLinux() || NativeLibrary.TryLoad("libcuda.so", out _)) return;
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Context).Assembly, ResolveCuda);
            }
            catch (InvalidOperationException)
            {
                // Another component already installed a resolver for ILGPU; leave it in charge.
            }
        }
    }

    private static IntPtr ResolveCuda(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == "cuda" ? CudaDriver.TryLoadDriver() : IntPtr.Zero;
}
