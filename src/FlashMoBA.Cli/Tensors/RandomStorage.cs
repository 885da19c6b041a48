using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Tensors;

/// <summary>
/// Large seeded random inputs for benchmarks, generated straight into 16-bit storage bits in parallel
/// (millions of elements per second per core), without the double copies <see cref="SampledTensor"/> keeps
/// for the reference.
/// </summary>
internal static class RandomStorage
{
    /// <summary>Elements per independently seeded chunk: results do not depend on the thread count.</summary>
    private const int ChunkElements = 1 << 20;

    /// <summary>Standard-normal values rounded to <paramref name="type"/>, as raw bits.</summary>
    public static ushort[] Normal(long count, ElementType type, int seed)
    {
        var bits = new ushort[count];
        long chunks = (count + ChunkElements - 1) / ChunkElements;
        Parallel.For(0L, chunks, chunk =>
        {
            var random = new Random(HashCode.Combine(seed, chunk));
            long start = chunk * ChunkElements, end = Math.Min(count, start + ChunkElements);
            for (long i = start; i < end; i++)
            {
                float value = (float)SampledTensor.StandardNormal(random);
                bits[i] = type == ElementType.Float16 ? BitConverter.HalfToUInt16Bits((System.Half)value) : BFloat16.FromFloat(value).Bits;
            }
        });
        return bits;
    }

    /// <summary>Allocates a device buffer of <typeparamref name="T"/> holding <see cref="Normal"/> values.</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> UploadNormal<T>(Accelerator accelerator, long count, ElementType type, int seed)
        where T : unmanaged
    {
        var bits = Normal(count, type, seed);
        var buffer = accelerator.Allocate1D<T>(count);
        buffer.View.CopyFromCPU(accelerator.DefaultStream, MemoryMarshal.Cast<ushort, T>(bits));
        accelerator.DefaultStream.Synchronize();
        return buffer;
    }
}
