using System.Runtime.CompilerServices;
using ILGPU;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Converts a 32-bit pair of 16-bit floats (lower channel in the low half) to and from fp32.
/// Kernels are generic over the implementing struct, so each element type gets its own code.
/// </summary>
internal interface IHalfPairCodec
{
    /// <summary>The value in the low 16 bits, widened to fp32.</summary>
    float Low(uint pair);

    /// <summary>The value in the high 16 bits, widened to fp32.</summary>
    float High(uint pair);

    /// <summary>Rounds two fp32 values (nearest even) and packs them, <paramref name="low"/> in the low half.</summary>
    uint Pack(float low, float high);
}

/// <summary>IEEE fp16 pairs.</summary>
internal readonly struct Float16Pairs : IHalfPairCodec
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Low(uint pair) => Interop.IntAsFloat((ushort)(pair & 0xFFFFu));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float High(uint pair) => Interop.IntAsFloat((ushort)(pair >> 16));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Pack(float low, float high) =>
        Interop.FloatAsInt((Half)low) | ((uint)Interop.FloatAsInt((Half)high) << 16);
}

/// <summary>bfloat16 pairs: the upper 16 bits of an fp32.</summary>
internal readonly struct BFloat16Pairs : IHalfPairCodec
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Low(uint pair) => Interop.IntAsFloat(pair << 16);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float High(uint pair) => Interop.IntAsFloat(pair & 0xFFFF0000u);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Pack(float low, float high) => RoundToBf16Bits(low) | (RoundToBf16Bits(high) << 16);

    /// <summary>Round to nearest even on the dropped 16 bits; NaN stays a quiet NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint RoundToBf16Bits(float value)
    {
        uint bits = Interop.FloatAsInt(value);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (bits >> 16) | 0x40u;
        return (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    }
}
