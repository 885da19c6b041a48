using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.RoutingBench;

/// <summary>Device memory and statistics helpers.</summary>
internal static class Measure
{
    /// <summary>Bytes of device memory in use (total − free, from the driver).</summary>
    public static long DeviceBytesInUse(Accelerator accelerator)
    {
        if (accelerator.AcceleratorType != AcceleratorType.Cuda)
            return 0;
        using var binding = accelerator.BindScoped();
        return CudaAPI.CurrentAPI.GetMemoryInfo(out long free, out long total) == CudaError.CUDA_SUCCESS ? total - free : -1;
    }

    /// <summary>Median of the samples.</summary>
    public static double Median(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        return sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }

    /// <summary>Mebibytes.</summary>
    public static double MiB(long bytes) => bytes / (1024.0 * 1024.0);
}
