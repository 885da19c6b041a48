using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Last step of the MoBA forward and backward (DESIGN.md §4.2–4.3): rounds an fp32 accumulator that
/// the attention kernels filled with atomics (the output, or dQ) to the 16-bit input type. One thread
/// converts four values: a 16-byte load and two 4-byte stores (the two column pairs of an interleaved quad are
/// 8 columns apart; a warp's stores still cover whole lines), so the pass runs at copy bandwidth. With
/// head chunking the accumulator holds only the chunk's heads, <c>[totalQ, count, d]</c>, and lands in
/// the chunk's columns of <c>[totalQ, H, d]</c>: a copy between rows of different strides. The kernels add into
/// accumulators in <see cref="InterleavedColumns"/> order, unscaled where a scale is left (dQ): the pass restores
/// the column order and applies the scale.
/// </summary>
internal static class MobaAccumulatorConvert
{
    /// <summary>Threads per group.</summary>
    public const int Threads = 256;

    /// <summary>fp32 values converted per thread (one 16-byte chunk).</summary>
    public const int ValuesPerThread = 4;

    /// <summary>The source accumulator, the 16-bit destination and how rows of one map onto the other.</summary>
    internal readonly struct Args(ArrayView<Chunk16> source, ArrayView<uint> destination, int quads, int sourceRowQuads,
        int destinationRowQuads, int destinationOffsetQuads, float scale)
    {
        /// <summary>fp32 accumulator viewed as groups of four floats.</summary>
        public readonly ArrayView<Chunk16> Source = source;

        /// <summary>Destination as packed pairs (two per group of four).</summary>
        public readonly ArrayView<uint> Destination = destination;

        /// <summary>Groups of four values in the source.</summary>
        public readonly int Quads = quads;

        /// <summary>Groups of four per source row.</summary>
        public readonly int SourceRowQuads = sourceRowQuads;

        /// <summary>Groups of four per destination row.</summary>
        public readonly int DestinationRowQuads = destinationRowQuads;

        /// <summary>Where a source row starts inside its destination row, in groups of four.</summary>
        public readonly int DestinationOffsetQuads = destinationOffsetQuads;

        /// <summary>Factor applied before rounding.</summary>
        public readonly float Scale = scale;
    }

    /// <summary>One thread per group of four values.</summary>
    internal static void Kernel<TElem>(Args args)
        where TElem : struct, IElementOps
    {
        int quad = Grid.GlobalIndex.X;
        if (quad >= args.Quads) return;
        var ops = default(TElem);
        int row = quad / args.SourceRowQuads;
        long target = (long)row * args.DestinationRowQuads + args.DestinationOffsetQuads + (quad - row * args.SourceRowQuads);
        Chunk16 values = args.Source[quad];
        // Source rows and the destination offset are whole groups of 16 columns (4 quads), so the quad's place in
        // its group is the same on both sides.
        long first = InterleavedColumns.FirstPair(target), second = first + 4;
        float scale = args.Scale;
        args.Destination[first] = ops.Pack(Interop.IntAsFloat(values.X) * scale, Interop.IntAsFloat(values.Y) * scale);
        args.Destination[second] = ops.Pack(Interop.IntAsFloat(values.Z) * scale, Interop.IntAsFloat(values.W) * scale);
    }

    /// <summary>
    /// Converts the accumulator <paramref name="source"/> <c>[totalQ, chunk.Count, d]</c> of the heads
    /// <paramref name="chunk"/>, in <see cref="InterleavedColumns"/> order, into those heads' columns of
    /// <paramref name="destination"/> <c>[totalQ, <paramref name="heads"/>, d]</c>, multiplied by
    /// <paramref name="scale"/>; the other heads are left alone. A whole accumulator is the chunk of all heads.
    /// </summary>
    internal static void Launch<T>(KernelCache cache, AcceleratorStream stream, ArrayView<float> source,
        ArrayView<T> destination, int heads, int headDim, MobaHeadRange chunk, float scale)
        where T : unmanaged
    {
        if (headDim % InterleavedColumns.Group != 0 || chunk.First < 0 || chunk.Count < 1 || chunk.First + chunk.Count > heads
            || source.Length % ((long)chunk.Count * headDim) != 0
            || destination.Length / ((long)heads * headDim) != source.Length / ((long)chunk.Count * headDim))
            throw new ArgumentException(
                $"source ({source.Length}) must be [rows, {chunk.Count}, {headDim}] and destination ({destination.Length}) "
                + $"[rows, {heads}, {headDim}] with heads {chunk.First}..{chunk.First + chunk.Count - 1} inside 0..{heads - 1}.",
                nameof(source));
        int rowQuads = headDim / ValuesPerThread;
        Enqueue(cache, stream, source, destination, checked((int)(source.Length / ValuesPerThread)), chunk.Count * rowQuads,
            heads * rowQuads, chunk.First * rowQuads, scale);
    }

    private static void Enqueue<T>(KernelCache cache, AcceleratorStream stream, ArrayView<float> source,
        ArrayView<T> destination, int quads, int sourceRowQuads, int destinationRowQuads, int destinationOffsetQuads,
        float scale)
        where T : unmanaged
    {
        if (quads == 0) return;
        var args = new Args(source.Cast<Chunk16>(), destination.Cast<uint>(), quads, sourceRowQuads, destinationRowQuads,
            destinationOffsetQuads, scale);
        var kernel = cache.Get<Args>(typeof(MobaAccumulatorConvert), nameof(Kernel), MobaElement.OpsOf<T>());
        kernel.Launch(stream, new KernelConfig((quads + Threads - 1) / Threads, Threads), args);
    }
}
