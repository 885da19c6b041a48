using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA;

/// <summary>
/// A dense row-major tensor in accelerator memory: a shape over one ILGPU buffer of <typeparamref name="T"/>.
/// Owns the buffer; dispose it (or use <c>using</c>) to free device memory.
/// </summary>
/// <typeparam name="T">Element type: <see cref="System.Half"/> or <see cref="ILGPU.Half"/> (fp16),
/// <see cref="FlashMoBA.BFloat16"/>, or any unmanaged type for auxiliary tensors (float LSE, int indices).</typeparam>
public sealed class DeviceTensor<T> : IDisposable where T : unmanaged
{
    private readonly int[] _shape;
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    private DeviceTensor(MemoryBuffer1D<T, Stride1D.Dense> buffer, int[] shape)
    {
        _buffer = buffer;
        _shape = shape;
    }

    /// <summary>Allocates an uninitialised tensor of the given shape.</summary>
    /// <param name="accelerator">Where the memory lives.</param>
    /// <param name="shape">Dimensions, each ≥ 0 (at least one dimension).</param>
    /// <exception cref="ArgumentException">The shape is empty or has a negative dimension.</exception>
    public static DeviceTensor<T> Allocate(Accelerator accelerator, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        long length = CheckShape(shape, nameof(shape));
        return new DeviceTensor<T>(accelerator.Allocate1D<T>(length), shape.ToArray());
    }

    /// <summary>Allocates a tensor and copies <paramref name="data"/> (row-major) into it.</summary>
    /// <exception cref="ArgumentException">The shape is invalid or its element count differs from <paramref name="data"/>'s length.</exception>
    public static DeviceTensor<T> Upload(Accelerator accelerator, ReadOnlySpan<T> data, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        long length = CheckShape(shape, nameof(shape));
        if (length != data.Length)
            throw new ArgumentException(
                $"data has {data.Length} elements but shape {AttentionShapes.Format(shape)} needs {length}.", nameof(data));
        var tensor = new DeviceTensor<T>(accelerator.Allocate1D<T>(length), shape.ToArray());
        tensor.CopyFrom(data);
        return tensor;
    }

    /// <summary>Allocates a tensor and copies the array (row-major) into it.</summary>
    /// <exception cref="ArgumentException">The shape is invalid or its element count differs from the array's length.</exception>
    public static DeviceTensor<T> Upload(Accelerator accelerator, T[] data, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Upload(accelerator, new ReadOnlySpan<T>(data), shape);
    }

    /// <summary>Takes ownership of an existing buffer (e.g. one a kernel launcher allocated) as a tensor of the given shape.</summary>
    /// <exception cref="ArgumentException">The shape's element count differs from the buffer's length.</exception>
    internal static DeviceTensor<T> Wrap(MemoryBuffer1D<T, Stride1D.Dense> buffer, params ReadOnlySpan<int> shape)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        long length = CheckShape(shape, nameof(shape));
        if (length != buffer.Length)
            throw new ArgumentException(
                $"buffer has {buffer.Length} elements but shape {AttentionShapes.Format(shape)} needs {length}.", nameof(shape));
        return new DeviceTensor<T>(buffer, shape.ToArray());
    }

    /// <summary>The accelerator owning the memory.</summary>
    public Accelerator Accelerator => Buffer.Accelerator;

    /// <summary>Dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements (the product of the shape).</summary>
    public long Length => Buffer.Length;

    /// <summary>The attention storage type of <typeparamref name="T"/>: <see cref="FlashMoBA.ElementType.Float16"/> for
    /// System.Half and ILGPU.Half, <see cref="FlashMoBA.ElementType.BFloat16"/> for <see cref="FlashMoBA.BFloat16"/>, null otherwise.</summary>
    public ElementType? ElementType => ElementTypeOf;

    /// <summary>Bytes of device memory held.</summary>
    public long SizeInBytes => Buffer.LengthInBytes;

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed => _buffer is null;

    /// <summary>The dense device view handed to kernels.</summary>
    internal ArrayView1D<T, Stride1D.Dense> View => Buffer.View;

    /// <summary>The storage type of <typeparamref name="T"/>, or null when it is not an attention storage type.</summary>
    internal static ElementType? ElementTypeOf =>
        typeof(T) == typeof(System.Half) || typeof(T) == typeof(ILGPU.Half) ? FlashMoBA.ElementType.Float16
        : typeof(T) == typeof(BFloat16) ? FlashMoBA.ElementType.BFloat16
        : null;

    /// <summary>Copies <paramref name="source"/> (row-major, exactly <see cref="Length"/> elements) into the tensor; waits for completion.</summary>
    /// <exception cref="ArgumentException">The length differs.</exception>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        if (source.Length != Length)
            throw new ArgumentException($"source has {source.Length} elements but the tensor holds {Length}.", nameof(source));
        var stream = Accelerator.DefaultStream;
        View.CopyFromCPU(stream, source);
        stream.Synchronize();
    }

    /// <summary>Copies the tensor into <paramref name="destination"/> (exactly <see cref="Length"/> elements); waits for completion.</summary>
    /// <exception cref="ArgumentException">The length differs.</exception>
    public void CopyTo(Span<T> destination)
    {
        if (destination.Length != Length)
            throw new ArgumentException($"destination has {destination.Length} elements but the tensor holds {Length}.", nameof(destination));
        var stream = Accelerator.DefaultStream;
        stream.Synchronize();
        View.CopyToCPU(stream, destination);
        stream.Synchronize();
    }

    /// <summary>Downloads the tensor into a new row-major array.</summary>
    public T[] Download()
    {
        var result = new T[Length];
        CopyTo(result);
        return result;
    }

    /// <summary>Frees the device memory. Further use throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"DeviceTensor<{typeof(T).Name}>{AttentionShapes.Format(_shape)}";

    private MemoryBuffer1D<T, Stride1D.Dense> Buffer =>
        _buffer ?? throw new ObjectDisposedException(ToString());

    private static long CheckShape(ReadOnlySpan<int> shape, string paramName)
    {
        if (shape.IsEmpty)
            throw new ArgumentException("shape must have at least one dimension.", paramName);
        long length = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"shape {AttentionShapes.Format(shape)} has a negative dimension.", paramName);
            length = checked(length * dim);
        }
        return length;
    }
}
