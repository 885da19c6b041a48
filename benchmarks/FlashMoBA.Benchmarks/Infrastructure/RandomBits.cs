namespace FlashMoBA.Benchmarks.Infrastructure;

/// <summary>Seeded random inputs as raw fp16/bf16 bits (inputs are never zeros or constants).</summary>
internal static class RandomBits
{
    public static ushort[] Normal(long count, ElementType type, int seed)
    {
        var random = new Random(seed);
        var bits = new ushort[count];
        for (long i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            float value = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            bits[i] = type == ElementType.Float16 ? BitConverter.HalfToUInt16Bits((Half)value) : BFloat16.FromFloat(value).Bits;
        }
        return bits;
    }
}
