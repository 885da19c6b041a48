using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.RoutingBench;

/// <summary>Seeded host inputs for the GPU verification (the same construction as the CPU router tests).</summary>
internal static class HostInputs
{
    /// <summary>Normal(0, 1) values rounded to <paramref name="type"/>.</summary>
    public static double[] Normal(Random random, long length, ElementType type)
    {
        var values = new double[length];
        for (long i = 0; i < length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double value = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
            values[i] = type == ElementType.BFloat16 ? BFloat16.FromFloat((float)value).ToFloat() : (double)(System.Half)value;
        }
        return values;
    }

    /// <summary>Keys whose block means are exact in fp32, fp16 and bf16 (see the class summary of <see cref="GpuVerify"/>).</summary>
    public static double[] ExactMeanKeys(Random random, AttentionShape shape, int blockSize)
    {
        int rowElements = shape.HeadsKv * shape.HeadDim;
        var keys = new double[(long)shape.TotalK * rowElements];
        for (int b = 0; b < shape.Batch; b++)
        {
            int kStart = shape.CuSeqlensK[b], nk = shape.CuSeqlensK[b + 1] - kStart;
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

    /// <summary>Uploads representable values as <typeparamref name="T"/>.</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator, double[] values)
        where T : unmanaged
    {
        var host = new T[values.Length];
        for (long i = 0; i < values.Length; i++)
        {
            host[i] = typeof(T) == typeof(Half)
                ? (T)(object)(Half)(float)values[i]
                : (T)(object)BFloat16.FromFloat((float)values[i]);
        }
        return accelerator.Allocate1D(host);
    }

    /// <summary>Fills a buffer with a value no kernel writes.</summary>
    public static void Poison<T>(AcceleratorStream stream, MemoryBuffer1D<T, Stride1D.Dense> buffer, T value)
        where T : unmanaged
    {
        var host = new T[buffer.Length];
        Array.Fill(host, value);
        buffer.View.CopyFromCPU(stream, host);
    }
}
