namespace FlashMoBA;

/// <summary>Storage type of q, k, v, outputs and gradients. Accumulation is always fp32.</summary>
public enum ElementType
{
    /// <summary>IEEE binary16.</summary>
    Float16,

    /// <summary>bfloat16 (8-bit exponent, 7-bit mantissa), stored as <see cref="BFloat16"/>.</summary>
    BFloat16,
}
