using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Host side of <see cref="MobaForward"/>: grid, shared memory and specialisation.</summary>
internal static partial class MobaForward
{
    /// <summary>Enqueues pass 1 (per-slot statistics): one CTA per (key block, query head of the chunk, part).</summary>
    internal static void LaunchStats<T>(KernelCache cache, AcceleratorStream stream, in MobaForwardArgs args,
        int headDim, int totalBlocks)
        where T : unmanaged
    {
        var kernel = cache.Get<MobaForwardArgs>(typeof(MobaForward), nameof(StatsKernel),
            MobaElement.OpsOf<T>(), MobaElement.HeadDimOf(headDim));
        kernel.Launch(stream, Config(totalBlocks, args.Chunk.Count, args.Parts, MobaForwardLayout.SharedChunks(headDim, withValues: false)), args);
    }

    /// <summary>Enqueues pass 2 (normalised P·V into the fp32 accumulator): one CTA per (key block, query head of the chunk, part).</summary>
    internal static void LaunchOutput<T>(KernelCache cache, AcceleratorStream stream, in MobaForwardArgs args,
        int headDim, int totalBlocks)
        where T : unmanaged
    {
        var kernel = cache.Get<MobaForwardArgs>(typeof(MobaForward), nameof(OutputKernel),
            MobaElement.OpsOf<T>(), MobaElement.HeadDimOf(headDim));
        kernel.Launch(stream, Config(totalBlocks, args.Chunk.Count, args.Parts, MobaForwardLayout.SharedChunks(headDim, withValues: true)), args);
    }

    private static KernelConfig Config(int totalBlocks, int chunkHeads, int parts, int sharedChunks) =>
        new(checked(totalBlocks * chunkHeads * parts), Threads, SharedMemoryConfig.RequestDynamic<Chunk16>(sharedChunks));
}
