using FlashMoBA.Kernels.Primitives;
using Half = System.Half;

namespace FlashMoBA.Kernels.Tests.Primitives;

/// <summary>Host-side construction and widening of 16-bit test data.</summary>
internal static class HostTensors
{
    /// <summary>Uniform values in [-2, 2) rounded to the element type, as raw bits.</summary>
    public static ushort[] RandomBits(Random random, int count, ElementType type, double range = 2)
    {
        var bits = new ushort[count];
        for (int i = 0; i < count; i++) bits[i] = Round((random.NextDouble() * 2 - 1) * range, type);
        return bits;
    }

    /// <summary>Rounds to the element type (nearest-even) and returns the bits.</summary>
    public static ushort Round(double value, ElementType type) => type == ElementType.Float16
        ? BitConverter.HalfToUInt16Bits((Half)value)
        : BFloat16.FromFloat((float)value).Bits;

    /// <summary>The exact value of 16-bit <paramref name="bits"/>.</summary>
    public static double Widen(ushort bits, ElementType type) => type == ElementType.Float16
        ? (double)BitConverter.UInt16BitsToHalf(bits)
        : new BFloat16(bits).ToFloat();

    /// <summary>Widens every element.</summary>
    public static double[] Widen(ushort[] bits, ElementType type) => Array.ConvertAll(bits, b => Widen(b, type));

    /// <summary>Transpose of a square row-major matrix.</summary>
    public static ushort[] Transpose(ushort[] matrix, int size)
    {
        var result = new ushort[matrix.Length];
        for (int r = 0; r < size; r++)
        {
            for (int c = 0; c < size; c++) result[c * size + r] = matrix[r * size + c];
        }
        return result;
    }

    /// <summary>The kernel specialisation type of <paramref name="type"/>.</summary>
    public static Type ElementOps(ElementType type) => type == ElementType.Float16 ? typeof(Fp16Ops) : typeof(Bf16Ops);

    /// <summary>An fp32 accumulator read back from the device (rows a multiple of 16 long, stored in
    /// <see cref="InterleavedColumns"/> order) in plain column order.</summary>
    public static float[] FromInterleaved(float[] stored)
    {
        var plain = new float[stored.Length];
        for (int position = 0; position < stored.Length; position++) plain[InterleavedColumns.ColumnAt(position)] = stored[position];
        return plain;
    }
}
