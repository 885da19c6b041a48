using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>Host-side helpers of the MoBA tests: rounding, conversion to and from the storage types, selections.</summary>
internal static class MobaHost
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

    /// <summary>Rounds to the nearest value of <paramref name="type"/> (ties to even).</summary>
    public static double RoundTo(ElementType type, double value) => type == ElementType.BFloat16
        ? BFloat16.FromFloat((float)value).ToFloat()
        : (double)(System.Half)value;

    /// <summary>Converts representable values to the storage type <typeparamref name="T"/>.</summary>
    public static T[] ToStorage<T>(double[] values)
        where T : unmanaged
    {
        var host = new T[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            host[i] = typeof(T) == typeof(BFloat16) ? (T)(object)BFloat16.FromFloat((float)values[i])
                : typeof(T) == typeof(ILGPU.Half) ? (T)(object)(ILGPU.Half)(float)values[i]
                : (T)(object)(System.Half)values[i];
        }
        return host;
    }

    /// <summary>Widens storage values to double.</summary>
    public static double[] FromStorage<T>(T[] values)
        where T : unmanaged
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i] switch
            {
                BFloat16 b => b.ToFloat(),
                ILGPU.Half h => (float)h,
                System.Half h => (double)h,
                _ => throw new ArgumentException($"{typeof(T).Name} is not a storage type."),
            };
        }
        return result;
    }

    /// <summary>A quiet NaN of the storage type <typeparamref name="T"/>, to poison outputs.</summary>
    public static T NaN<T>()
        where T : unmanaged
        => ToStorage<T>([double.NaN])[0];

    /// <summary>
    /// A random routing (not the router's) <c>[totalQ, H, topK]</c>: distinct blocks of the row's sequence,
    /// a random number of them, −1 padded. Causal rows with p ≥ 0 keep their own block in slot 0 and pick
    /// the others mostly among earlier blocks, sometimes a later one (whose keys are all masked); rows with
    /// p &lt; 0 select nothing. Non-causal rows sometimes select nothing at all.
    /// </summary>
    public static int[] RandomSelection(MobaCase testCase, Random random)
    {
        var shape = testCase.Shape;
        int topK = testCase.TopK, blockSize = testCase.BlockSize;
        var selection = new int[(long)shape.TotalQ * shape.Heads * topK];
        Array.Fill(selection, -1);
        for (int b = 0; b < shape.Batch; b++)
        {
            int lenQ = shape.CuSeqlensQ[b + 1] - shape.CuSeqlensQ[b];
            int lenK = shape.CuSeqlensK[b + 1] - shape.CuSeqlensK[b];
            int blocks = (lenK + blockSize - 1) / blockSize;
            for (int t = 0; t < lenQ; t++)
            {
                int position = t + lenK - lenQ;
                for (int h = 0; h < shape.Heads; h++)
                {
                    int first = ((shape.CuSeqlensQ[b] + t) * shape.Heads + h) * topK;
                    var chosen = new List<int>();
                    if (testCase.Causal)
                    {
                        if (position < 0) continue;
                        int own = position / blockSize;
                        chosen.Add(own);
                        int wanted = random.Next(0, topK);
                        for (int attempt = 0; attempt < 4 * topK && chosen.Count <= wanted; attempt++)
                        {
                            int block = random.Next(6) == 0 ? random.Next(blocks) : random.Next(own + 1);
                            if (!chosen.Contains(block)) chosen.Add(block);
                        }
                    }
                    else
                    {
                        int wanted = random.Next(8) == 0 ? 0 : random.Next(1, topK + 1);
                        for (int attempt = 0; attempt < 4 * topK && chosen.Count < wanted; attempt++)
                        {
                            int block = random.Next(blocks);
                            if (!chosen.Contains(block)) chosen.Add(block);
                        }
                    }
                    for (int i = 0; i < chosen.Count; i++) selection[first + i] = chosen[i];
                }
            }
        }
        return selection;
    }
}
