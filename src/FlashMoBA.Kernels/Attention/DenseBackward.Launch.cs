using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Host side of <see cref="DenseBackward"/>: grid, shared memory and specialisation.</summary>
internal static partial class DenseBackward
{
    /// <summary>Alignment the dQ accumulator's first element needs: the kernel adds 16-byte vectors into it.</summary>
    public const int AccumulatorAlignmentBytes = 16;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming <paramref name="name"/>) unless <paramref name="dqAccumulator"/>
    /// starts on an <see cref="AccumulatorAlignmentBytes"/>-byte boundary (whole allocations always do).
    /// </summary>
    internal static void RequireAlignedAccumulator(ArrayView<float> dqAccumulator, string name)
    {
        if (dqAccumulator.Length == 0) return;
        long address = dqAccumulator.LoadEffectiveAddressAsPtr().ToInt64();
        if (address % AccumulatorAlignmentBytes != 0)
        {
            throw new ArgumentException(
                $"{name} must start on a {AccumulatorAlignmentBytes}-byte boundary (16-byte vector reductions); " +
                $"this view starts at address 0x{address:x}.", name);
        }
    }

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
