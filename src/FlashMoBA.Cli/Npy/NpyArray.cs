using System.Runtime.InteropServices;

namespace FlashMoBA.Cli.Npy;

/// <summary>A C-ordered array as stored in a .npy file: dtype, shape and little-endian element bytes.</summary>
internal sealed class NpyArray
{
    /// <summary>Wraps raw little-endian bytes; their length must be the shape's element count times the element size.</summary>
    /// <exception cref="ArgumentException">The byte count does not match the shape.</exception>
    public NpyArray(NpyDType dtype, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        DType = dtype;
        Shape = shape;
        Data = data;
        long count = ElementCount(shape);
        if (count * dtype.Size() != data.LongLength)
            throw new ArgumentException($"{data.Length} bytes do not hold shape {FormatShape(shape)} of {dtype.NumpyName()}.", nameof(data));
    }

    /// <summary>Element type.</summary>
    public NpyDType DType { get; }

    /// <summary>Dimensions (empty for a scalar).</summary>
    public int[] Shape { get; }

    /// <summary>Element bytes, little-endian, C order.</summary>
    public byte[] Data { get; }

    /// <summary>Number of elements.</summary>
    public long Count => ElementCount(Shape);

    /// <summary>An fp16 array.</summary>
    public static NpyArray From(ReadOnlySpan<Half> values, params int[] shape) => new(NpyDType.Float16, shape, Bytes(values));

    /// <summary>A float32 array.</summary>
    public static NpyArray From(ReadOnlySpan<float> values, params int[] shape) => new(NpyDType.Float32, shape, Bytes(values));

    /// <summary>An int32 array.</summary>
    public static NpyArray From(ReadOnlySpan<int> values, params int[] shape) => new(NpyDType.Int32, shape, Bytes(values));

    /// <summary>The elements as float32 (float16 widened exactly, float64 rounded).</summary>
    /// <exception cref="NpyFormatException">The dtype is an integer type.</exception>
    public float[] ToFloat32()
    {
        var result = new float[Count];
        switch (DType)
        {
            case NpyDType.Float16:
                var halves = MemoryMarshal.Cast<byte, Half>(Data);
                for (int i = 0; i < result.Length; i++) result[i] = (float)halves[i];
                break;
            case NpyDType.Float32:
                MemoryMarshal.Cast<byte, float>(Data).CopyTo(result);
                break;
            case NpyDType.Float64:
                var doubles = MemoryMarshal.Cast<byte, double>(Data);
                for (int i = 0; i < result.Length; i++) result[i] = (float)doubles[i];
                break;
            default:
                throw new NpyFormatException($"dtype {DType.NumpyName()} is not a floating-point type");
        }
        return result;
    }

    /// <summary>The elements as fp16 (only for a float16 array: no silent rounding).</summary>
    /// <exception cref="NpyFormatException">The dtype is not float16.</exception>
    public Half[] ToFloat16() => DType == NpyDType.Float16
        ? MemoryMarshal.Cast<byte, Half>(Data).ToArray()
        : throw new NpyFormatException($"dtype {DType.NumpyName()} is not float16");

    /// <summary>The elements as int32 (int64 checked to fit).</summary>
    /// <exception cref="NpyFormatException">The dtype is not an integer type, or an int64 value does not fit.</exception>
    public int[] ToInt32()
    {
        switch (DType)
        {
            case NpyDType.Int32:
                return MemoryMarshal.Cast<byte, int>(Data).ToArray();
            case NpyDType.Int64:
                var longs = MemoryMarshal.Cast<byte, long>(Data);
                var result = new int[longs.Length];
                for (int i = 0; i < longs.Length; i++)
                {
                    if (longs[i] is < int.MinValue or > int.MaxValue)
                        throw new NpyFormatException($"int64 value {longs[i]} at [{i}] does not fit in int32");
                    result[i] = (int)longs[i];
                }
                return result;
            default:
                throw new NpyFormatException($"dtype {DType.NumpyName()} is not an integer type (int32 expected)");
        }
    }

    /// <summary>Shape as numpy prints it: "(3, 4)", "(5,)", "()".</summary>
    public static string FormatShape(IReadOnlyList<int> shape) =>
        shape.Count == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";

    /// <summary>Product of the dimensions.</summary>
    public static long ElementCount(IReadOnlyList<int> shape)
    {
        long count = 1;
        foreach (int dim in shape) count = checked(count * dim);
        return count;
    }

    private static byte[] Bytes<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException(".npy writing assumes a little-endian host.");
        return MemoryMarshal.AsBytes(values).ToArray();
    }
}
