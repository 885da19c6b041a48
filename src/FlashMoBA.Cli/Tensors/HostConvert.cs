namespace FlashMoBA.Cli.Tensors;

/// <summary>Element-wise conversions between host arrays of the storage types and float/double.</summary>
internal static class HostConvert
{
    /// <summary>fp16 → float (exact).</summary>
    public static float[] ToFloat(ReadOnlySpan<Half> values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (float)values[i];
        return result;
    }

    /// <summary>bf16 → float (exact).</summary>
    public static float[] ToFloat(ReadOnlySpan<BFloat16> values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i].ToFloat();
        return result;
    }

    /// <summary>float → fp16, round to nearest even.</summary>
    public static Half[] ToHalf(ReadOnlySpan<float> values)
    {
        var result = new Half[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (Half)values[i];
        return result;
    }

    /// <summary>float → bf16, round to nearest even.</summary>
    public static BFloat16[] ToBFloat16(ReadOnlySpan<float> values)
    {
        var result = new BFloat16[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = BFloat16.FromFloat(values[i]);
        return result;
    }

    /// <summary>float → double (exact).</summary>
    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }

    /// <summary>double → float, round to nearest.</summary>
    public static float[] ToFloat(ReadOnlySpan<double> values)
    {
        var result = new float[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (float)values[i];
        return result;
    }

    /// <summary>Rounds floats through the storage type and back (what the kernels actually see).</summary>
    public static float[] RoundTo(ReadOnlySpan<float> values, ElementType type) =>
        type == ElementType.Float16 ? ToFloat(ToHalf(values)) : ToFloat(ToBFloat16(values));
}
