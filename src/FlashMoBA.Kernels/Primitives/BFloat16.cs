using System.Runtime.InteropServices;

namespace FlashMoBA;

/// <summary>
/// bfloat16 storage: the upper 16 bits of an IEEE float. ILGPU has no bf16 type, so kernels and
/// host code share this 16-bit struct; conversions use bit shifts and work inside kernels.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>Raw bits.</summary>
    public readonly ushort Bits;

    /// <summary>Wraps raw bits.</summary>
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>Rounds a float to the nearest bf16 (ties to even); NaN stays NaN.</summary>
    public static BFloat16 FromFloat(float value)
    {
        uint u = (uint)BitConverter.SingleToInt32Bits(value);
        if ((u & 0x7FFFFFFFu) > 0x7F800000u) return new BFloat16((ushort)((u >> 16) | 0x40u));
        uint rounding = 0x7FFFu + ((u >> 16) & 1u);
        return new BFloat16((ushort)((u + rounding) >> 16));
    }

    /// <summary>Exact widening to float.</summary>
    public float ToFloat() => BitConverter.Int32BitsToSingle(Bits << 16);

    /// <summary>Converts to float.</summary>
    public static explicit operator float(BFloat16 value) => value.ToFloat();

    /// <summary>Converts from float with round-to-nearest-even.</summary>
    public static explicit operator BFloat16(float value) => FromFloat(value);

    /// <inheritdoc/>
    public bool Equals(BFloat16 other) => Bits == other.Bits;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Bits;

    /// <inheritdoc/>
    public override string ToString() => ToFloat().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Bitwise equality.</summary>
    public static bool operator ==(BFloat16 left, BFloat16 right) => left.Equals(right);

    /// <summary>Bitwise inequality.</summary>
    public static bool operator !=(BFloat16 left, BFloat16 right) => !left.Equals(right);
}
