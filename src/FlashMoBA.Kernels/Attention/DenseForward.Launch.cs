using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Host side of <see cref="DenseForward"/>: grid, shared memory and specialisation.</summary>
internal static partial class DenseForward
{
    /// <summary>Enqueues the forward: one CTA per (query tile of the longest sequence, sequence, query head).</summary>
    internal static void Launch<T>(KernelCache cache, AcceleratorStream stream, in DenseForwardArgs args, int batch,
        int headDim)
        where T : unmanaged
    {
        int groups = checked(args.QueryTiles * batch * args.Heads);
        if (groups == 0) return;
        var kernel = cache.Get<DenseForwardArgs>(typeof(DenseForward), nameof(Kernel),
            MobaElement.OpsOf<T>(), MobaElement.HeadDimOf(headDim));
        kernel.Launch(stream, new KernelConfig(groups, Threads,
            SharedMemoryConfig.RequestDynamic<Chunk16>(DenseForwardLayout.SharedChunks(headDim))), args);
    }
}
