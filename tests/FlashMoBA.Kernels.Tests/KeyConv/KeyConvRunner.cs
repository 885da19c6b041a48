using System.Runtime.InteropServices;
using FlashMoBA.Kernels.KeyConv;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.KeyConv;

/// <summary>
/// Runs <see cref="KeyConvolution"/> on an accelerator for a <see cref="KeyConvCase"/>: uploads the
/// stored inputs, poisons every output with NaN first (so an unwritten element fails), downloads.
/// </summary>
internal static class KeyConvRunner
{
    public static ushort[] Forward(Accelerator accelerator, KeyConvCase testCase, int runLength) =>
        testCase.ElementType == ElementType.Float16
            ? Forward<ILGPU.Half>(accelerator, testCase, runLength)
            : Forward<BFloat16>(accelerator, testCase, runLength);

    /// <summary>dK bits and dW; nulls pick the library defaults (partials for the accelerator, run length).</summary>
    public static (ushort[] DK, float[] DW) Backward(Accelerator accelerator, KeyConvCase testCase, int? runLength,
        int? partials) =>
        testCase.ElementType == ElementType.Float16
            ? Backward<ILGPU.Half>(accelerator, testCase, runLength, partials)
            : Backward<BFloat16>(accelerator, testCase, runLength, partials);

    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator, ushort[] bits)
        where T : unmanaged => accelerator.Allocate1D(MemoryMarshal.Cast<ushort, T>(bits).ToArray());

    public static MemoryBuffer1D<T, Stride1D.Dense> Poisoned<T>(Accelerator accelerator, long length, T poison)
        where T : unmanaged
    {
        var values = new T[length];
        Array.Fill(values, poison);
        return accelerator.Allocate1D(values);
    }

    public static ushort[] Download<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer)
        where T : unmanaged => MemoryMarshal.Cast<T, ushort>(buffer.GetAsArray1D()).ToArray();

    public static T NaNOf<T>(ElementType elementType)
        where T : unmanaged
    {
        ushort bits = StoredBits.NaN(elementType);
        return MemoryMarshal.Cast<ushort, T>(new[] { bits })[0];
    }

    private static ushort[] Forward<T>(Accelerator accelerator, KeyConvCase testCase, int runLength)
        where T : unmanaged
    {
        using var k = Upload<T>(accelerator, testCase.KBits);
        using var cuSeqlensK = accelerator.Allocate1D(testCase.CuSeqlensK);
        using var weights = accelerator.Allocate1D(testCase.Weights);
        using var kOut = Poisoned(accelerator, testCase.Shape.KeyElements, NaNOf<T>(testCase.ElementType));
        KeyConvolution.Forward(accelerator.DefaultStream, k.View, cuSeqlensK.View, weights.View, testCase.Shape,
            kOut.View, runLength);
        accelerator.Synchronize();
        return Download(kOut);
    }

    private static (ushort[] DK, float[] DW) Backward<T>(Accelerator accelerator, KeyConvCase testCase,
        int? runLength, int? partials)
        where T : unmanaged
    {
        var shape = testCase.Shape;
        int partialCount = partials ?? KeyConvolution.DefaultPartials(accelerator, testCase.ElementType, shape);
        using var k = Upload<T>(accelerator, testCase.KBits);
        using var dKPrime = Upload<T>(accelerator, testCase.DKPrimeBits);
        using var cuSeqlensK = accelerator.Allocate1D(testCase.CuSeqlensK);
        using var weights = accelerator.Allocate1D(testCase.Weights);
        using var dK = Poisoned(accelerator, shape.KeyElements, NaNOf<T>(testCase.ElementType));
        using var dW = Poisoned(accelerator, shape.WeightElements, float.NaN);
        using var scratch = Poisoned(accelerator, (long)partialCount * shape.WeightElements, float.NaN);
        KeyConvolution.Backward(accelerator.DefaultStream, k.View, cuSeqlensK.View, weights.View, dKPrime.View,
            shape, dK.View, dW.View, scratch.View, partialCount, runLength);
        accelerator.Synchronize();
        return (Download(dK), dW.GetAsArray1D());
    }
}
