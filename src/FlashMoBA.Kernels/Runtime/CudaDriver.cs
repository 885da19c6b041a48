using System.Runtime.InteropServices;

namespace FlashMoBA.Kernels.Runtime;

/// <summary>
/// The few CUDA driver entry points ILGPU does not expose: per-function attributes (the opt-in
/// dynamic shared-memory limit, local memory and register counts) and the opt-in device limit.
/// Bound lazily through <see cref="NativeLibrary"/> so that machines without a driver never load it.
/// </summary>
internal static unsafe class CudaDriver
{
    /// <summary><c>CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES</c>: local memory per thread.</summary>
    public const int FuncAttributeLocalSizeBytes = 3;

    /// <summary><c>CU_FUNC_ATTRIBUTE_NUM_REGS</c>: registers per thread.</summary>
    public const int FuncAttributeNumRegs = 4;

    /// <summary><c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c>: the per-function launch limit.</summary>
    public const int FuncAttributeMaxDynamicSharedSizeBytes = 8;

    /// <summary><c>CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN</c> (≈227 KB on the H200).</summary>
    public const int DeviceAttributeMaxSharedMemoryPerBlockOptin = 97;

    private static readonly Lazy<Entry> Entries = new(Bind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Library names tried in order; <c>libcuda.so.1</c> is what the driver package always installs.</summary>
    internal static readonly string[] LibraryNames = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"];

    /// <summary>Sets a function attribute; throws with the driver's error code on failure.</summary>
    public static void SetFunctionAttribute(IntPtr function, int attribute, int value)
    {
        int status = Entries.Value.FuncSetAttribute(function, attribute, value);
        if (status != 0)
        {
            throw new InvalidOperationException(
                $"cuFuncSetAttribute(attribute {attribute}, value {value}) failed with CUDA error {status}.");
        }
    }

    /// <summary>Reads a function attribute; throws with the driver's error code on failure.</summary>
    public static int GetFunctionAttribute(IntPtr function, int attribute)
    {
        int value;
        int status = Entries.Value.FuncGetAttribute(&value, attribute, function);
        if (status != 0)
        {
            throw new InvalidOperationException(
                $"cuFuncGetAttribute(attribute {attribute}) failed with CUDA error {status}.");
        }
        return value;
    }

    /// <summary>Reads a device attribute of device ordinal <paramref name="device"/>.</summary>
    public static int GetDeviceAttribute(int attribute, int device)
    {
        int value;
        int status = Entries.Value.DeviceGetAttribute(&value, attribute, device);
        if (status != 0)
        {
            throw new InvalidOperationException(
                $"cuDeviceGetAttribute(attribute {attribute}, device {device}) failed with CUDA error {status}.");
        }
        return value;
    }

    /// <summary>Loads the first driver library that exists, or returns <see cref="IntPtr.Zero"/>.</summary>
    internal static IntPtr TryLoadDriver()
    {
        foreach (string name in LibraryNames)
        {
            if (NativeLibrary.TryLoad(name, out IntPtr handle)) return handle;
        }
        return IntPtr.Zero;
    }

    private static Entry Bind()
    {
        IntPtr library = TryLoadDriver();
        if (library == IntPtr.Zero)
        {
            throw new InvalidOperationException(
                $"The CUDA driver library was not found (tried {string.Join(", ", LibraryNames)}).");
        }
        return new Entry(
            (delegate* unmanaged<IntPtr, int, int, int>)NativeLibrary.GetExport(library, "cuFuncSetAttribute"),
            (delegate* unmanaged<int*, int, IntPtr, int>)NativeLibrary.GetExport(library, "cuFuncGetAttribute"),
            (delegate* unmanaged<int*, int, int, int>)NativeLibrary.GetExport(library, "cuDeviceGetAttribute"));
    }

    private sealed class Entry(
        delegate* unmanaged<IntPtr, int, int, int> funcSetAttribute,
        delegate* unmanaged<int*, int, IntPtr, int> funcGetAttribute,
        delegate* unmanaged<int*, int, int, int> deviceGetAttribute)
    {
        public readonly delegate* unmanaged<IntPtr, int, int, int> FuncSetAttribute = funcSetAttribute;
        public readonly delegate* unmanaged<int*, int, IntPtr, int> FuncGetAttribute = funcGetAttribute;
        public readonly delegate* unmanaged<int*, int, int, int> DeviceGetAttribute = deviceGetAttribute;
    }
}
