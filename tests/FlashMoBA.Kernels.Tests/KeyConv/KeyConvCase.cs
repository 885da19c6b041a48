using FlashMoBA.Kernels.KeyConv;

namespace FlashMoBA.Kernels.Tests.KeyConv;

/// <summary>
/// Seeded random inputs of one key-convolution problem: keys and dK′ rounded to the storage type
/// (their exact values feed the float64 reference, so only the kernel's own error is measured),
/// fp32 weights sized so pre-activations span SiLU's curved range (|pre| up to ~4).
/// </summary>
internal sealed class KeyConvCase
{
    private KeyConvCase(KeyConvShape shape, ElementType elementType, int[] cuSeqlensK, ushort[] kBits,
        double[] k, float[] weights, ushort[] dKPrimeBits, double[] dKPrime)
    {
        Shape = shape;
        ElementType = elementType;
        CuSeqlensK = cuSeqlensK;
        KBits = kBits;
        K = k;
        Weights = weights;
        DKPrimeBits = dKPrimeBits;
        DKPrime = dKPrime;
    }

    public KeyConvShape Shape { get; }

    public ElementType ElementType { get; }

    public int[] CuSeqlensK { get; }

    /// <summary>k as stored (fp16 or bf16 bits).</summary>
    public ushort[] KBits { get; }

    /// <summary>k exactly as stored, widened.</summary>
    public double[] K { get; }

    public float[] Weights { get; }

    public double[] WeightsExact => Array.ConvertAll(Weights, w => (double)w);

    /// <summary>dK′ as stored.</summary>
    public ushort[] DKPrimeBits { get; }

    /// <summary>dK′ exactly as stored, widened.</summary>
    public double[] DKPrime { get; }

    public static KeyConvCase Create(ElementType elementType, int width, int headsKv, int headDim, int[] lengths,
        int seed)
    {
        var cuSeqlensK = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++) cuSeqlensK[b + 1] = cuSeqlensK[b] + lengths[b];
        var shape = new KeyConvShape(lengths.Length, cuSeqlensK[^1], headsKv, headDim, width);
        var random = new Random(seed);
        var (kBits, k) = RandomStored(random, shape.KeyElements, 1.5, elementType);
        var weights = new float[shape.WeightElements];
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)((random.NextDouble() * 2 - 1) * 0.9);
        var (dKPrimeBits, dKPrime) = RandomStored(random, shape.KeyElements, 1.0, elementType);
        return new KeyConvCase(shape, elementType, cuSeqlensK, kBits, k, weights, dKPrimeBits, dKPrime);
    }

    private static (ushort[] Bits, double[] Exact) RandomStored(Random random, long length, double range,
        ElementType elementType)
    {
        var bits = new ushort[length];
        var exact = new double[length];
        for (long i = 0; i < length; i++)
        {
            bits[i] = StoredBits.Round((random.NextDouble() * 2 - 1) * range, elementType);
            exact[i] = StoredBits.Widen(bits[i], elementType);
        }
        return (bits, exact);
    }
}

/// <summary>fp16/bf16 bit patterns on the host.</summary>
internal static class StoredBits
{
    /// <summary>A quiet NaN of the storage type, used to poison outputs.</summary>
    public static ushort NaN(ElementType elementType) => elementType == ElementType.Float16 ? (ushort)0x7E00 : (ushort)0x7FC0;

    /// <summary>Unit roundoff of the storage type: 2^−11 (fp16), 2^−8 (bf16).</summary>
    public static double UnitRoundoff(ElementType elementType) =>
        elementType == ElementType.Float16 ? Math.Pow(2, -11) : Math.Pow(2, -8);

    public static ushort Round(double value, ElementType elementType) =>
        elementType == ElementType.Float16
            ? BitConverter.HalfToUInt16Bits((System.Half)value)
            : BFloat16.FromFloat((float)value).Bits;

    public static double Widen(ushort bits, ElementType elementType) =>
        elementType == ElementType.Float16
            ? (double)BitConverter.UInt16BitsToHalf(bits)
            : new BFloat16(bits).ToFloat();

    public static double[] Widen(ushort[] bits, ElementType elementType) =>
        Array.ConvertAll(bits, b => Widen(b, elementType));
}
