using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.KeyConvBench;

/// <summary>
/// Seeded uniform random values rounded to fp16 or bf16, generated in parallel chunks (the bench
/// problem has 2.7e8 elements); the exact stored values are available for the reference.
/// </summary>
internal sealed class StoredRandom
{
    private const int ChunkSize = 1 << 20;

    private StoredRandom(ushort[] bits, ElementType elementType)
    {
        Bits = bits;
        ElementType = elementType;
    }

    public ushort[] Bits { get; }

    public ElementType ElementType { get; }

    /// <summary>Uniform in ±<paramref name="range"/>, rounded to the storage type.</summary>
    public static StoredRandom Uniform(long count, double range, ElementType elementType, int seed)
    {
        var bits = new ushort[count];
        long chunks = (count + ChunkSize - 1) / ChunkSize;
        Parallel.For(0, chunks, chunk =>
        {
            var random = new Random(HashCode.Combine(seed, chunk));
            long end = Math.Min(count, (chunk + 1) * ChunkSize);
            for (long i = chunk * ChunkSize; i < end; i++)
                bits[i] = Round((random.NextDouble() * 2 - 1) * range, elementType);
        });
        return new StoredRandom(bits, elementType);
    }

    public static ushort Round(double value, ElementType elementType) =>
        elementType == ElementType.Float16
            ? BitConverter.HalfToUInt16Bits((System.Half)value)
            : BFloat16.FromFloat((float)value).Bits;

    public static double Widen(ushort bits, ElementType elementType) =>
        elementType == ElementType.Float16
            ? (double)BitConverter.UInt16BitsToHalf(bits)
            : new BFloat16(bits).ToFloat();

    /// <summary>Rows <c>[start, start+rows)</c> of a <c>[*, channels]</c> tensor, widened.</summary>
    public double[] Rows(long start, int rows, int channels) =>
        Widen(Bits.AsSpan().Slice((int)(start * channels), rows * channels), ElementType);

    public static double[] Widen(ReadOnlySpan<ushort> bits, ElementType elementType)
    {
        var values = new double[bits.Length];
        for (int i = 0; i < bits.Length; i++) values[i] = Widen(bits[i], elementType);
        return values;
    }

    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator)
        where T : unmanaged
    {
        var buffer = accelerator.Allocate1D<T>(Bits.LongLength);
        buffer.View.BaseView.CopyFromCPU(MemoryMarshal.Cast<ushort, T>(Bits.AsSpan()));
        return buffer;
    }
}
