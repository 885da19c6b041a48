using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Reductions across the four lanes (t = 0..3) that share accumulator rows g and g+8 in the
/// <see cref="Acc16x8F32"/> layout, for both rows at once; every lane receives the results. Two
/// butterfly shuffles per row on CUDA; on the CPU one exchange through the warp scratch
/// (<see cref="WarpEmulation"/>), which is why the dynamic shared-memory view is passed.
/// </summary>
internal static class QuadReduce
{
    /// <summary>Maximum over the lane quad (two shuffles on every accelerator; slow on the CPU one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float value)
    {
        value = XMath.Max(value, Warp.ShuffleXor(value, 1));
        return XMath.Max(value, Warp.ShuffleXor(value, 2));
    }

    /// <summary>Sum over the lane quad (two shuffles on every accelerator; slow on the CPU one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(float value)
    {
        value += Warp.ShuffleXor(value, 1);
        return value + Warp.ShuffleXor(value, 2);
    }

    /// <summary>Maximum over the lane quad of <paramref name="lo"/> and of <paramref name="hi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Max(ref float lo, ref float hi, ArrayView<uint> shared)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                lo = XMath.Max(lo, Warp.ShuffleXor(lo, 1));
                hi = XMath.Max(hi, Warp.ShuffleXor(hi, 1));
                lo = XMath.Max(lo, Warp.ShuffleXor(lo, 2));
                hi = XMath.Max(hi, Warp.ShuffleXor(hi, 2));
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                var result = WarpEmulation.QuadReduce(new RowPair(lo, hi), shared, maximum: true);
                lo = result.Lo;
                hi = result.Hi;
                break;
        }
    }

    /// <summary>Sum over the lane quad of <paramref name="lo"/> and of <paramref name="hi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Sum(ref float lo, ref float hi, ArrayView<uint> shared)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                lo += Warp.ShuffleXor(lo, 1);
                hi += Warp.ShuffleXor(hi, 1);
                lo += Warp.ShuffleXor(lo, 2);
                hi += Warp.ShuffleXor(hi, 2);
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                var result = WarpEmulation.QuadReduce(new RowPair(lo, hi), shared, maximum: false);
                lo = result.Lo;
                hi = result.Hi;
                break;
        }
    }
}
