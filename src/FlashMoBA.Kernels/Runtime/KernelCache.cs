using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Runtime;

/// <summary>
/// Compiles each kernel once per accelerator. A kernel is an explicitly grouped
/// <c>static void K(TArgs args)</c> method, closed over its specialisation flags with
/// <see cref="MethodInfo.MakeGenericMethod"/> before it gets here, so the key is the closed
/// method. On CUDA the cache also raises the function's dynamic shared-memory limit past the
/// 48 KB default before the first launch that needs it (DESIGN.md §5). On the CPU accelerator a
/// launch with dynamic shared memory silently gets the warp-emulation scratch appended.
/// </summary>
internal sealed class KernelCache
{
    private static readonly ConditionalWeakTable<Accelerator, KernelCache> PerAccelerator = new();

    private readonly ConcurrentDictionary<MethodInfo, CachedKernel> kernels = new();

    /// <summary>Creates a cache bound to <paramref name="accelerator"/>.</summary>
    public KernelCache(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        Accelerator = accelerator;
        MaxDynamicSharedBytes = accelerator is CudaAccelerator cuda
            ? CudaDriver.GetDeviceAttribute(CudaDriver.DeviceAttributeMaxSharedMemoryPerBlockOptin, cuda.DeviceId)
            : int.MaxValue;
        // Every kernel is compiled through this cache, after this point: the PTX targets sm_90.
        if (accelerator is CudaAccelerator device) PtxTarget.Apply(device.Capabilities, device.Architecture);
    }

    /// <summary>The accelerator the kernels are compiled for.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Largest dynamic shared memory one group may request (the CUDA opt-in limit).</summary>
    public int MaxDynamicSharedBytes { get; }

    /// <summary>Every kernel compiled so far (for resource reports).</summary>
    public IEnumerable<CachedKernel> Loaded => kernels.Values;

    /// <summary>The cache shared by every caller of <paramref name="accelerator"/>.</summary>
    public static KernelCache For(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return PerAccelerator.GetValue(accelerator, static a => new KernelCache(a));
    }

    /// <summary>
    /// Returns the compiled kernel <paramref name="owner"/>.<paramref name="kernelName"/> closed over the
    /// specialisation types <paramref name="specialization"/> (none for a non-generic kernel).
    /// </summary>
    public CachedKernel<TArgs> Get<TArgs>(Type owner, string kernelName, params Type[] specialization)
        where TArgs : struct
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(specialization);
        var method = owner.GetMethod(kernelName, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new ArgumentException($"{owner.Name} has no static method {kernelName}.", nameof(kernelName));
        return Get<TArgs>(specialization.Length == 0 ? method : method.MakeGenericMethod(specialization));
    }

    /// <summary>
    /// Returns the compiled kernel for the closed method <paramref name="kernel"/>, compiling it on
    /// first use. <typeparamref name="TArgs"/> must be the kernel's only parameter type.
    /// </summary>
    public CachedKernel<TArgs> Get<TArgs>(MethodInfo kernel)
        where TArgs : struct
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.ContainsGenericParameters)
        {
            throw new ArgumentException($"Kernel {kernel.Name} must be closed over its specialisation types.",
                nameof(kernel));
        }
        var parameters = kernel.GetParameters();
        if (parameters.Length != 1 || parameters[0].ParameterType != typeof(TArgs))
        {
            throw new ArgumentException(
                $"Kernel {kernel.Name} must take exactly one parameter of type {typeof(TArgs).Name}.",
                nameof(kernel));
        }
        return (CachedKernel<TArgs>)kernels.GetOrAdd(kernel, static (method, cache) =>
            new CachedKernel<TArgs>(cache, method, cache.Accelerator.LoadKernel(method)), this);
    }
}

/// <summary>A compiled kernel: its name and the driver's view of its resources.</summary>
internal abstract class CachedKernel
{
    private protected CachedKernel(MethodInfo method, Kernel kernel)
    {
        Name = FormatName(method);
        Kernel = kernel;
    }

    /// <summary>Method name with its specialisation types, for messages.</summary>
    public string Name { get; }

    /// <summary>The loaded ILGPU kernel.</summary>
    public Kernel Kernel { get; }

    /// <summary>Local memory per thread in bytes on CUDA (the driver's view); 0 on other accelerators.</summary>
    public int LocalBytesPerThread => Kernel is CudaKernel cuda
        ? CudaDriver.GetFunctionAttribute(cuda.FunctionPtr, CudaDriver.FuncAttributeLocalSizeBytes)
        : 0;

    /// <summary>Registers per thread on CUDA; 0 on other accelerators.</summary>
    public int RegistersPerThread => Kernel is CudaKernel cuda
        ? CudaDriver.GetFunctionAttribute(cuda.FunctionPtr, CudaDriver.FuncAttributeNumRegs)
        : 0;

    private static string FormatName(MethodInfo method)
    {
        string owner = method.DeclaringType?.Name ?? "?";
        if (!method.IsGenericMethod) return $"{owner}.{method.Name}";
        var flags = string.Join(", ", method.GetGenericArguments().Select(t => t.Name));
        return $"{owner}.{method.Name}<{flags}>";
    }
}

/// <summary>A compiled kernel with its launcher; launches check the configuration first.</summary>
/// <typeparam name="TArgs">The kernel's argument struct.</typeparam>
internal sealed class CachedKernel<TArgs> : CachedKernel
    where TArgs : struct
{
    private readonly Action<AcceleratorStream, KernelConfig, TArgs> launcher;
    private readonly Lock sharedLimitLock = new();
    private readonly KernelCache cache;
    private int dynamicSharedLimit = 48 * 1024;

    internal CachedKernel(KernelCache cache, MethodInfo method, Kernel kernel)
        : base(method, kernel)
    {
        this.cache = cache;
        launcher = kernel.CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, TArgs>>();
    }

    /// <summary>
    /// Launches on <paramref name="stream"/>. Throws <see cref="ArgumentException"/> for a group larger
    /// than the device allows or shared memory above the opt-in limit, and wraps launch failures
    /// with the kernel's name and configuration.
    /// </summary>
    public void Launch(AcceleratorStream stream, KernelConfig config, in TArgs args)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var accelerator = cache.Accelerator;
        if (config.GroupDim.Size > accelerator.MaxNumThreadsPerGroup)
        {
            throw new ArgumentException(
                $"{Name}: group of {config.GroupDim.Size} threads exceeds the device limit of {accelerator.MaxNumThreadsPerGroup}.",
                nameof(config));
        }
        if (config.GridDim.Size == 0) return;
        if (accelerator.AcceleratorType == AcceleratorType.CPU && config.UsesDynamicSharedMemory)
            config = WithEmulationScratch(config);
        int sharedBytes = config.SharedMemoryConfig.ArraySize;
        if (sharedBytes > cache.MaxDynamicSharedBytes)
        {
            throw new ArgumentException(
                $"{Name}: {sharedBytes} bytes of dynamic shared memory exceed the device limit of {cache.MaxDynamicSharedBytes}.",
                nameof(config));
        }
        if (Kernel is CudaKernel cuda && sharedBytes > dynamicSharedLimit) RaiseSharedLimit(cuda, sharedBytes);
        try
        {
            launcher(stream, config, args);
        }
        catch (Exception error) when (error is CudaException or InvalidOperationException or NotSupportedException)
        {
            throw new InvalidOperationException(
                $"Launch of {Name} (grid {config.GridDim}, group {config.GroupDim}, {sharedBytes} B shared) failed: {error.Message}",
                error);
        }
    }

    /// <summary>
    /// The CPU emulation of warp tile operations exchanges fragments through a per-warp scratch at the
    /// end of dynamic shared memory (<see cref="WarpEmulation"/>); kernels never see it on CUDA.
    /// </summary>
    private static KernelConfig WithEmulationScratch(KernelConfig config)
    {
        var shared = config.SharedMemoryConfig;
        int warps = (config.GroupDim.Size + 31) / 32;
        int extra = (WarpEmulation.ScratchBytes(warps) + shared.ElementSize - 1) / shared.ElementSize;
        return new KernelConfig(config.GridDim, config.GroupDim,
            new SharedMemoryConfig(shared.NumElements + extra, shared.ElementSize));
    }

    private void RaiseSharedLimit(CudaKernel kernel, int bytes)
    {
        lock (sharedLimitLock)
        {
            if (bytes <= dynamicSharedLimit) return;
            cache.Accelerator.Bind();
            CudaDriver.SetFunctionAttribute(kernel.FunctionPtr, CudaDriver.FuncAttributeMaxDynamicSharedSizeBytes, bytes);
            dynamicSharedLimit = bytes;
        }
    }

}
