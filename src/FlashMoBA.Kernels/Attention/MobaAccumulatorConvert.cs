using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Last step of the MoBA forward and backward (DESIGN.md §4.2–4.3): rounds an fp32 accumulator that
/// the attention kernels filled with atomics (the output, or dQ) to the 16-bit input type. One thread
/// converts four values: a 16-byte load and an 8-byte store, so the pass runs at copy bandwidth.
/// </summary>
internal static class MobaAccumulatorConvert
{
    /// <summary>Threads per group.</summary>
    public const int Threads = 256;

    /// <summary>fp32 values converted per thread (one 16-byte chunk).</summary>
    public const int ValuesPerThread = 4;

    /// <summary>The source accumulator and the 16-bit destination.</summary>
    internal readonly struct Args(ArrayView<Chunk16> source, ArrayView<uint> destination, int quads)
    {
        /// <summary>fp32 accumulator viewed as groups of four floats.</summary>
        public readonly ArrayView<Chunk16> Source = source;

        /// <summary>Destination as packed pairs (two per group of four).</summary>
        public readonly ArrayView<uint> Destination = destination;

        /// <summary>Groups of four values.</summary>
        public readonly int Quads = quads;
    }

    /// <summary>One thread per group of four values.</summary>
    internal static void Kernel<TElem>(Args args)
        where TElem : struct, IElementOps
    {
        int quad = Grid.GlobalIndex.X;
        if (quad >= args.Quads) return;
        var ops = default(TElem);
        Chunk16 values = args.Source[quad];
        args.Destination[2 * quad] = ops.Pack(Interop.IntAsFloat(values.X), Interop.IntAsFloat(values.Y));
        args.Destination[2 * quad + 1] = ops.Pack(Interop.IntAsFloat(values.Z), Interop.IntAsFloat(values.W));
    }

    /// <summary>
    /// Converts all of <paramref name="source"/> into <paramref name="destination"/> (same element count, a
    /// multiple of four: every supported head dimension is).
    /// </summary>
    internal static void Launch<T>(KernelCache cache, AcceleratorStream stream, ArrayView<float> source,
        ArrayView<T> destination)
        where T : unmanaged
    {
        if (source.Length != destination.Length || source.Length % ValuesPerThread != 0)
            throw new ArgumentException(
                $"source ({source.Length}) and destination ({destination.Length}) must have the same length, a multiple of {ValuesPerThread}.",
                nameof(destination));
        if (source.Length == 0) return;
        var args = new Args(source.Cast<Chunk16>(), destination.Cast<uint>(), checked((int)(source.Length / ValuesPerThread)));
        var kernel = cache.Get<Args>(typeof(MobaAccumulatorConvert), nameof(Kernel), MobaElement.OpsOf<T>());
        kernel.Launch(stream, new KernelConfig((args.Quads + Threads - 1) / Threads, Threads), args);
    }
}
