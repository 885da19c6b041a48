using FlashMoBA.Kernels.Routing;
using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.Tests.Routing;

/// <summary>Seeded inputs for the router tests, rounded to the storage dtype so that the float64
/// reference sees exactly the values the kernels read.</summary>
internal static class RoutingTestData
{
    /// <summary>Normal(0, 1) values rounded to <paramref name="type"/>.</summary>
    public static double[] Normal(Random random, long length, ElementType type)
    {
        var values = new double[length];
        for (long i = 0; i < length; i++)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            values[i] = RoundTo(type, Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }
        return values;
    }

    /// <summary>
    /// Keys on the grid <c>m / 4</c>, <c>m ∈ [−4, 4]</c>, whose block means are exactly representable in
    /// fp16 and bf16 and computed exactly in fp32: full blocks (B a power of two) sum at most 256
    /// grid steps; a partial last block gets a random grid mean plus noise in ± pairs that sums to
    /// zero. The kernels' centroids then equal the reference's, so gate scores differ only by fp32
    /// accumulation and the selected sets can be compared exactly.
    /// </summary>
    public static double[] ExactMeanKeys(Random random, AttentionShape shape, int blockSize)
    {
        int rowElements = shape.HeadsKv * shape.HeadDim;
        var keys = new double[(long)shape.TotalK * rowElements];
        for (int b = 0; b < shape.Batch; b++)
        {
            int kStart = shape.CuSeqlensK[b];
            int nk = shape.CuSeqlensK[b + 1] - kStart;
            for (int first = 0; first < nk; first += blockSize)
            {
                int count = Math.Min(blockSize, nk - first);
                for (int e = 0; e < rowElements; e++)
                {
                    if (count == blockSize)
                    {
                        for (int i = 0; i < count; i++)
                            keys[(long)(kStart + first + i) * rowElements + e] = random.Next(-4, 5) / 4.0;
                        continue;
                    }
                    double mean = random.Next(-2, 3) / 4.0;
                    for (int i = 0; i + 1 < count; i += 2)
                    {
                        double noise = random.Next(0, 3) / 4.0;
                        keys[(long)(kStart + first + i) * rowElements + e] = mean + noise;
                        keys[(long)(kStart + first + i + 1) * rowElements + e] = mean - noise;
                    }
                    if (count % 2 == 1)
                        keys[(long)(kStart + first + count - 1) * rowElements + e] = mean;
                }
            }
        }
        return keys;
    }

    /// <summary>Rounds to the nearest value of <paramref name="type"/> (ties to even).</summary>
    public static double RoundTo(ElementType type, double value) => type == ElementType.BFloat16
        ? BFloat16.FromFloat((float)value).ToFloat()
        : (double)(System.Half)value;

    /// <summary>Uploads values (already representable) as <typeparamref name="T"/>.</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator, double[] values)
        where T : unmanaged
    {
        var host = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            host[i] = typeof(T) == typeof(Half)
                ? (T)(object)(Half)(float)values[i]
                : (T)(object)BFloat16.FromFloat((float)values[i]);
        }
        return accelerator.Allocate1D(host);
    }

    /// <summary>The reference's shape for a routing geometry.</summary>
    public static AttentionShape ShapeOf(RoutingGeometry geometry) => new(
        geometry.CuSeqlensQ, geometry.CuSeqlensK, geometry.Heads, geometry.HeadsKv, geometry.HeadDim);

    /// <summary>Prefix sums of lengths.</summary>
    public static int[] Cu(params int[] lengths)
    {
        var cu = new int[lengths.Length + 1];
        for (int i = 0; i < lengths.Length; i++)
            cu[i + 1] = cu[i] + lengths[i];
        return cu;
    }

    /// <summary>Fills a device buffer with a value no kernel writes, so unwritten elements fail.</summary>
    public static void Poison<T>(AcceleratorStream stream, MemoryBuffer1D<T, Stride1D.Dense> buffer, T value)
        where T : unmanaged
    {
        var host = new T[buffer.Length];
        Array.Fill(host, value);
        buffer.View.CopyFromCPU(stream, host);
    }
}
