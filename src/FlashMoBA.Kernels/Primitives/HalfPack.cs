using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// fp16 / bf16 ⇄ fp32 conversions and packing of two 16-bit values into one 32-bit register (the
/// operand format of <c>mma.sync</c>: the lower column index in the low half). Usable in kernels and
/// on the host. On CUDA a pair converts with one <c>cvt.rn.{f16x2,bf16x2}.f32</c>; elsewhere the same
/// round-to-nearest-even is done with integer arithmetic, bit-exact with the hardware. The CUDA/CPU
/// choice is a target switch (see <see cref="WarpEmulation"/>): it folds away at compile time.
/// </summary>
internal static class HalfPack
{
    /// <summary>Packs <paramref name="lo"/> (low 16 bits) and <paramref name="hi"/> as fp16 (RNE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PackF16(float lo, float hi)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("cvt.rn.f16x2.f32 %0, %1, %2;", out uint packed, hi, lo);
                return packed;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                return FloatToF16Bits(lo) | ((uint)FloatToF16Bits(hi) << 16);
        }
    }

    /// <summary>Packs <paramref name="lo"/> (low 16 bits) and <paramref name="hi"/> as bf16 (RNE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint PackBf16(float lo, float hi)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("cvt.rn.bf16x2.f32 %0, %1, %2;", out uint packed, hi, lo);
                return packed;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                return FloatToBf16Bits(lo) | ((uint)FloatToBf16Bits(hi) << 16);
        }
    }

    /// <summary>The fp16 in the low half of <paramref name="packed"/>, widened exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16Lo(uint packed) => F16ToFloat((ushort)packed);

    /// <summary>The fp16 in the high half of <paramref name="packed"/>, widened exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16Hi(uint packed) => F16ToFloat((ushort)(packed >> 16));

    /// <summary>The bf16 in the low half of <paramref name="packed"/>, widened exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bf16Lo(uint packed) => Interop.IntAsFloat(packed << 16);

    /// <summary>The bf16 in the high half of <paramref name="packed"/>, widened exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bf16Hi(uint packed) => Interop.IntAsFloat(packed & 0xFFFF0000u);

    /// <summary>Widens fp16 bits to float exactly (subnormals, infinities and NaN included).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16ToFloat(ushort bits)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("cvt.f32.f16 %0, %1;", out float widened, bits);
                return widened;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                return F16BitsToFloat(bits);
        }
    }

    /// <summary>Integer-only fp16 → fp32 widening (the CPU path of <see cref="F16ToFloat"/>).</summary>
    private static float F16BitsToFloat(ushort bits)
    {
        uint sign = (uint)(bits & 0x8000) << 16;
        uint exponent = (uint)(bits >> 10) & 0x1Fu;
        uint mantissa = bits & 0x3FFu;
        if (exponent == 0x1F) return Interop.IntAsFloat(sign | 0x7F800000u | (mantissa << 13));
        if (exponent != 0) return Interop.IntAsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
        // Subnormal or zero: mantissa · 2^-24 is exact in fp32.
        return Interop.IntAsFloat(sign | Interop.FloatAsInt(mantissa * 5.9604644775390625e-8f));
    }

    /// <summary>Rounds a float to fp16 bits, nearest-even; overflow gives ±∞, NaN stays NaN.</summary>
    public static ushort FloatToF16Bits(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        uint sign = (bits >> 16) & 0x8000u;
        uint magnitude = bits & 0x7FFFFFFFu;
        if (magnitude >= 0x7F800000u)
            return (ushort)(sign | 0x7C00u | (magnitude > 0x7F800000u ? 0x200u : 0u));
        // 65520 = 65504 + half an ulp: from here on the value rounds to infinity.
        if (magnitude >= 0x477FF000u) return (ushort)(sign | 0x7C00u);
        if (magnitude >= 0x38800000u)
        {
            // Normal fp16: rebias the exponent, round the 13 dropped mantissa bits to nearest-even;
            // a carry out of the mantissa correctly bumps the exponent.
            uint rounded = magnitude - 0x38000000u + 0xFFFu + ((magnitude >> 13) & 1u);
            return (ushort)(sign | (rounded >> 13));
        }
        // Subnormal fp16: the result is round(|x| · 2^24) in units of 2^-24.
        int shift = 126 - (int)(magnitude >> 23);
        if (shift > 24) return (ushort)sign;
        uint significand = (magnitude & 0x7FFFFFu) | 0x800000u;
        uint quotient = significand >> shift;
        uint remainder = significand & ((1u << shift) - 1u);
        uint halfway = 1u << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (quotient & 1u) != 0)) quotient++;
        return (ushort)(sign | quotient);
    }

    /// <summary>Rounds a float to bf16 bits, nearest-even; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FloatToBf16Bits(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (ushort)((bits >> 16) | 0x40u);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }
}
