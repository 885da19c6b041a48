using FlashMoBA.Kernels.Runtime;
using ILGPU.Runtime;

namespace FlashMoBA.Benchmarks.Infrastructure;

/// <summary>
/// The accelerator every kernel benchmark runs on: the first CUDA GPU when present (sizes from
/// DESIGN.md §7), otherwise the CPU accelerator (tiny sizes: its emulated warps are slow).
/// One per benchmark process.
/// </summary>
internal static class BenchDevice
{
    private static readonly Lazy<AcceleratorHost> Host = new(() => AcceleratorHost.Create(AcceleratorChoice.Auto));

    /// <summary>The accelerator.</summary>
    public static Accelerator Accelerator => Host.Value.Accelerator;

    /// <summary>True on a CUDA GPU.</summary>
    public static bool IsCuda => Host.Value.IsCuda;

    /// <summary>Sequence lengths for a kernel benchmark: <paramref name="gpu"/> on CUDA, <paramref name="cpu"/> on the CPU.</summary>
    public static IEnumerable<int> Seqlens(int[] gpu, int[] cpu) => IsCuda ? gpu : cpu;

    /// <summary>Waits for the default stream: every kernel benchmark ends with it so the time covers the work.</summary>
    public static void Synchronize() => Accelerator.DefaultStream.Synchronize();
}
