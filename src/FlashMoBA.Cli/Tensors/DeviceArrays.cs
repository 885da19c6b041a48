using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Tensors;

/// <summary>Allocation and read-back helpers for verify families: NaN-poisoned outputs and widening downloads.</summary>
internal static class DeviceArrays
{
    /// <summary>A buffer of <paramref name="length"/> 16-bit elements filled with the storage type's NaN, so unwritten outputs fail.</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> PoisonedStorage<T>(Accelerator accelerator, long length, ElementType type)
        where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != sizeof(ushort))
            throw new ArgumentException($"{typeof(T).Name} is not a 16-bit storage type.", nameof(T));
        var bits = new ushort[length];
        Array.Fill(bits, type == ElementType.Float16 ? (ushort)0x7E00 : (ushort)0x7FC0);
        return accelerator.Allocate1D(MemoryMarshal.Cast<ushort, T>(bits).ToArray());
    }

    /// <summary>A float buffer filled with NaN.</summary>
    public static MemoryBuffer1D<float, Stride1D.Dense> PoisonedFloat(Accelerator accelerator, long length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return accelerator.Allocate1D(values);
    }

    /// <summary>Downloads a 16-bit storage buffer and widens it to float.</summary>
    public static float[] DownloadStorage<T>(ArrayView1D<T, Stride1D.Dense> view, ElementType type) where T : unmanaged
    {
        var host = view.GetAsArray1D();
        var bits = MemoryMarshal.Cast<T, ushort>(host);
        var result = new float[bits.Length];
        for (int i = 0; i < bits.Length; i++)
            result[i] = type == ElementType.Float16 ? (float)BitConverter.UInt16BitsToHalf(bits[i]) : new BFloat16(bits[i]).ToFloat();
        return result;
    }
}
