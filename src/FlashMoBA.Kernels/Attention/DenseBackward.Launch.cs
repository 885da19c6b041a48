using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Host side of <see cref="DenseBackward"/>: grid, shared memory and specialisation.</summary>
internal static partial class DenseBackward
{
    /// <summary>Enqueues the main backward kernel: one CTA per (key tile of the longest sequence, sequence, KV head).</summary>
    internal static void Launch<T>(KernelCache cache, AcceleratorStream stream, in DenseBackwardArgs args, int batch,
        int headDim)
        where T : unmanaged
    {
        int groups = checked(args.KeyTiles * batch * args.HeadsKv);
        if (groups == 0) return;
        var kernel = cache.Get<DenseBackwardArgs>(typeof(DenseBackward), nameof(Kernel),
            MobaElement.OpsOf<T>(), MobaElement.HeadDimOf(headDim));
        kernel.Launch(stream, new KernelConfig(groups, Threads,
            SharedMemoryConfig.RequestDynamic<Chunk16>(DenseBackwardLayout.SharedChunks(headDim))), args);
    }
}
