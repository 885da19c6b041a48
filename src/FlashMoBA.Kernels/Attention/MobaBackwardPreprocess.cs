using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Backward preprocess (DESIGN.md §4.3): <c>D = rowsum(dO ∘ O)</c> per (row, head) in fp32, the term
/// that turns dP into dS = P∘(dP − D) without revisiting the other blocks of a row. One thread reads
/// one 16-byte chunk of dO and of O; the d/8 threads of a row (8 or 16 neighbouring lanes) finish the
/// sum with butterfly shuffles, so every row is one coalesced read.
/// </summary>
internal static class MobaBackwardPreprocess
{
    /// <summary>Threads per group.</summary>
    public const int Threads = 256;

    /// <summary>The two inputs and D.</summary>
    internal readonly struct Args(ArrayView<Chunk16> dOut, ArrayView<Chunk16> output, ArrayView<float> delta,
        int totalQ, int heads, int chunksPerRow)
    {
        /// <summary>dO <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
        public readonly ArrayView<Chunk16> DOut = dOut;

        /// <summary>O <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
        public readonly ArrayView<Chunk16> Output = output;

        /// <summary>D <c>[Heads, totalQ]</c>.</summary>
        public readonly ArrayView<float> Delta = delta;

        /// <summary>Query rows over the batch.</summary>
        public readonly int TotalQ = totalQ;

        /// <summary>Query heads.</summary>
        public readonly int Heads = heads;

        /// <summary>d / 8: a power of two that divides 32 (d = 64 or 128).</summary>
        public readonly int ChunksPerRow = chunksPerRow;
    }

    /// <summary>One thread per 16-byte chunk of dO; every lane takes part in the shuffles.</summary>
    internal static void Kernel<TElem>(Args args)
        where TElem : struct, IElementOps
    {
        int index = Grid.GlobalIndex.X;
        int pair = index / args.ChunksPerRow;
        bool valid = pair < args.TotalQ * args.Heads;
        float partial = 0f;
        if (valid)
        {
            var ops = default(TElem);
            Chunk16 dOut = args.DOut[index], output = args.Output[index];
            partial = ops.Lo(dOut.X) * ops.Lo(output.X) + ops.Hi(dOut.X) * ops.Hi(output.X)
                + ops.Lo(dOut.Y) * ops.Lo(output.Y) + ops.Hi(dOut.Y) * ops.Hi(output.Y)
                + ops.Lo(dOut.Z) * ops.Lo(output.Z) + ops.Hi(dOut.Z) * ops.Hi(output.Z)
                + ops.Lo(dOut.W) * ops.Lo(output.W) + ops.Hi(dOut.W) * ops.Hi(output.W);
        }
        for (int offset = args.ChunksPerRow / 2; offset > 0; offset >>= 1)
            partial += Warp.ShuffleXor(partial, offset);
        if (valid && index % args.ChunksPerRow == 0)
        {
            int row = pair / args.Heads, head = pair - row * args.Heads;
            args.Delta[head * args.TotalQ + row] = partial;
        }
    }

    /// <summary>Enqueues D for every (row, head).</summary>
    internal static void Launch<T>(KernelCache cache, AcceleratorStream stream, in Args args)
        where T : unmanaged
    {
        long chunks = (long)args.TotalQ * args.Heads * args.ChunksPerRow;
        if (chunks == 0) return;
        var kernel = cache.Get<Args>(typeof(MobaBackwardPreprocess), nameof(Kernel), MobaElement.OpsOf<T>());
        kernel.Launch(stream, new KernelConfig(checked((int)((chunks + Threads - 1) / Threads)), Threads), args);
    }
}
