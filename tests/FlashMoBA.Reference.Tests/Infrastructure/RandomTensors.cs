namespace FlashMoBA.Reference.Tests.Infrastructure;

/// <summary>Seeded random inputs: uniform in [−1, 1) unless stated, never constant.</summary>
internal static class RandomTensors
{
    public static double[] Uniform(Random random, long length, double scale = 1.0)
    {
        var values = new double[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = scale * (2 * random.NextDouble() - 1);
        }

        return values;
    }

    /// <summary>Random q, k, v and dOut for <paramref name="shape"/>.</summary>
    public static (double[] Q, double[] K, double[] V, double[] DOut) Attention(AttentionShape shape, int seed,
        double qkScale = 1.0)
    {
        var random = new Random(seed);
        long qLength = (long)shape.TotalQ * shape.Heads * shape.HeadDim;
        long kvLength = (long)shape.TotalK * shape.HeadsKv * shape.HeadDim;
        return (Uniform(random, qLength, qkScale), Uniform(random, kvLength, qkScale), Uniform(random, kvLength),
            Uniform(random, qLength));
    }
}
