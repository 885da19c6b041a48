using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The compiled attention kernels of one element type and head dimension with their resource use as the
/// driver reports it (registers and local memory per thread), for the GPU scripts' check that no kernel
/// touches local memory (DESIGN.md §5). Kernels not yet loaded are compiled.
/// </summary>
internal static class KernelInventory
{
    /// <summary>Name, registers/thread and local bytes/thread of every MoBA kernel.</summary>
    public static IReadOnlyList<(string Kernel, int Registers, int LocalBytes)> Moba<T>(KernelCache cache, int headDim)
        where T : unmanaged
    {
        var ops = MobaElement.OpsOf<T>();
        var dim = MobaElement.HeadDimOf(headDim);
        return
        [
            Entry(cache.Get<MobaForwardArgs>(typeof(MobaForward), nameof(MobaForward.StatsKernel), ops, dim)),
            Entry(cache.Get<MobaLseMerge.Args>(typeof(MobaLseMerge), nameof(MobaLseMerge.Kernel))),
            Entry(cache.Get<MobaForwardArgs>(typeof(MobaForward), nameof(MobaForward.OutputKernel), ops, dim)),
            Entry(cache.Get<MobaAccumulatorConvert.Args>(typeof(MobaAccumulatorConvert), nameof(MobaAccumulatorConvert.Kernel), ops)),
            Entry(cache.Get<MobaBackwardPreprocess.Args>(typeof(MobaBackwardPreprocess), nameof(MobaBackwardPreprocess.Kernel), ops)),
            Entry(cache.Get<MobaBackwardArgs>(typeof(MobaBackward), nameof(MobaBackward.Kernel), ops, dim)),
        ];
    }

    /// <summary>Name, registers/thread and local bytes/thread of every dense attention kernel.</summary>
    public static IReadOnlyList<(string Kernel, int Registers, int LocalBytes)> Dense<T>(KernelCache cache, int headDim)
        where T : unmanaged
    {
        var ops = MobaElement.OpsOf<T>();
        var dim = MobaElement.HeadDimOf(headDim);
        return
        [
            Entry(cache.Get<DenseForwardArgs>(typeof(DenseForward), nameof(DenseForward.Kernel), ops, dim)),
            Entry(cache.Get<MobaBackwardPreprocess.Args>(typeof(MobaBackwardPreprocess), nameof(MobaBackwardPreprocess.Kernel), ops)),
            Entry(cache.Get<DenseBackwardArgs>(typeof(DenseBackward), nameof(DenseBackward.Kernel), ops, dim)),
            Entry(cache.Get<MobaAccumulatorConvert.Args>(typeof(MobaAccumulatorConvert), nameof(MobaAccumulatorConvert.Kernel), ops)),
        ];
    }

    /// <summary>One line for logs: <c>Name R regs L B local</c> per kernel, local memory flagged.</summary>
    public static string Format(IEnumerable<(string Kernel, int Registers, int LocalBytes)> kernels) =>
        string.Join(", ", kernels.Select(k =>
            $"{k.Kernel} {k.Registers} regs {k.LocalBytes} B local{(k.LocalBytes > 0 ? " (LOCAL MEMORY)" : "")}"));

    private static (string, int, int) Entry<TArgs>(CachedKernel<TArgs> kernel)
        where TArgs : struct => (kernel.Name, kernel.RegistersPerThread, kernel.LocalBytesPerThread);
}
