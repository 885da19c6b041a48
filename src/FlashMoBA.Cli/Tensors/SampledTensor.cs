using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using Half = System.Half;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Tensors;

/// <summary>
/// Seeded random values already rounded to a storage type, kept both as the storage array (for the
/// kernels) and as the exact double values (for the reference), so both see identical inputs.
/// </summary>
internal sealed class SampledTensor
{
    private SampledTensor(ElementType elementType, float[] values)
    {
        ElementType = elementType;
        Rounded = HostConvert.RoundTo(values, elementType);
        Values = HostConvert.ToDouble(Rounded);
    }

    /// <summary>The storage type.</summary>
    public ElementType ElementType { get; }

    /// <summary>The rounded values as float.</summary>
    public float[] Rounded { get; }

    /// <summary>The rounded values as double (reference input).</summary>
    public double[] Values { get; }

    /// <summary>Element count.</summary>
    public int Length => Rounded.Length;

    /// <summary>Normal(0, <paramref name="std"/>) samples rounded to <paramref name="elementType"/>.</summary>
    public static SampledTensor Normal(Random random, int count, ElementType elementType, double std = 1.0)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(std * StandardNormal(random));
        return new SampledTensor(elementType, values);
    }

    /// <summary>The values as fp16 (exact when <see cref="ElementType"/> is fp16).</summary>
    public Half[] AsHalf() => HostConvert.ToHalf(Rounded);

    /// <summary>The values as bf16 (exact when <see cref="ElementType"/> is bf16).</summary>
    public BFloat16[] AsBFloat16() => HostConvert.ToBFloat16(Rounded);

    /// <summary>The raw 16-bit patterns of the storage type.</summary>
    public ushort[] Bits() => ElementType == ElementType.Float16
        ? Array.ConvertAll(AsHalf(), BitConverter.HalfToUInt16Bits)
        : Array.ConvertAll(AsBFloat16(), b => b.Bits);

    /// <summary>Uploads the storage bits as <typeparamref name="T"/> (ILGPU.Half, System.Half or BFloat16).</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator) where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != sizeof(ushort))
            throw new ArgumentException($"{typeof(T).Name} is not a 16-bit storage type.", nameof(T));
        return accelerator.Allocate1D(MemoryMarshal.Cast<ushort, T>(Bits()).ToArray());
    }

    /// <summary>Uploads as fp16.</summary>
    public DeviceTensor<Half> UploadHalf(Accelerator accelerator, params ReadOnlySpan<int> shape) =>
        DeviceTensor<Half>.Upload(accelerator, AsHalf(), shape);

    /// <summary>Uploads as bf16.</summary>
    public DeviceTensor<BFloat16> UploadBFloat16(Accelerator accelerator, params ReadOnlySpan<int> shape) =>
        DeviceTensor<BFloat16>.Upload(accelerator, AsBFloat16(), shape);

    /// <summary>A standard normal sample (Box–Muller).</summary>
    public static double StandardNormal(Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
