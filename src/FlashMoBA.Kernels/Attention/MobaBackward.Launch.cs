using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Host side of <see cref="MobaBackward"/>: grid, shared memory and specialisation.</summary>
internal static partial class MobaBackward
{
    /// <summary>Enqueues the main backward kernel: one CTA per (key block, KV head of the chunk, key tile of the block).</summary>
    internal static void Launch<T>(KernelCache cache, AcceleratorStream stream, in MobaBackwardArgs args,
        int headDim, int totalBlocks)
        where T : unmanaged
    {
        int tilesPerBlock = (args.BlockSize + KeyTile - 1) / KeyTile;
        var kernel = cache.Get<MobaBackwardArgs>(typeof(MobaBackward), nameof(Kernel),
            MobaElement.OpsOf<T>(), MobaElement.HeadDimOf(headDim));
        var config = new KernelConfig(checked(totalBlocks * args.KvHeadCount * tilesPerBlock), Threads,
            SharedMemoryConfig.RequestDynamic<Chunk16>(MobaBackwardLayout.SharedChunks(headDim)));
        kernel.Launch(stream, config, args);
    }
}
