using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The compiled MoBA attention kernels of one element type and head dimension with their resource use
/// as the driver reports it (registers and local memory per thread), for the GPU scripts' check that
/// no kernel touches local memory (DESIGN.md §5).
/// </summary>
internal static class MobaKernelInventory
{
    /// <summary>Name, registers/thread and local bytes/thread of every MoBA kernel (compiling any not yet loaded).</summary>
    public static IReadOnlyList<(string Kernel, int Registers, int LocalBytes)> Describe<T>(KernelCache cache, int headDim)
        where T : unmanaged
    {
        var ops = MobaElement.OpsOf<T>();
        var dim = MobaElement.HeadDimOf(headDim);
        var kernels = new (string, int, int)[]
        {
            Entry(cache.Get<MobaForwardArgs>(typeof(MobaForward), nameof(MobaForward.StatsKernel), ops, dim)),
            Entry(cache.Get<MobaLseMerge.Args>(typeof(MobaLseMerge), nameof(MobaLseMerge.Kernel))),
            Entry(cache.Get<MobaForwardArgs>(typeof(MobaForward), nameof(MobaForward.OutputKernel), ops, dim)),
            Entry(cache.Get<MobaAccumulatorConvert.Args>(typeof(MobaAccumulatorConvert), nameof(MobaAccumulatorConvert.Kernel), ops)),
            Entry(cache.Get<MobaBackwardPreprocess.Args>(typeof(MobaBackwardPreprocess), nameof(MobaBackwardPreprocess.Kernel), ops)),
            Entry(cache.Get<MobaBackwardArgs>(typeof(MobaBackward), nameof(MobaBackward.Kernel), ops, dim)),
        };
        return kernels;
    }

    private static (string, int, int) Entry<TArgs>(CachedKernel<TArgs> kernel)
        where TArgs : struct => (kernel.Name, kernel.RegistersPerThread, kernel.LocalBytesPerThread);
}
