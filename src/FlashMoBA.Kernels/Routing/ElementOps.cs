using ILGPU;
using ILGPU.Runtime.Cuda;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Conversions between a 16-bit storage type and fp32 usable inside kernels; routing kernels are
/// generic over a struct implementing this so one source serves fp16 and bf16.
/// </summary>
/// <typeparam name="T">Storage type: <see cref="Half"/> or <see cref="BFloat16"/>.</typeparam>
internal interface IElementOps<T>
    where T : unmanaged
{
    /// <summary>Exact widening to fp32.</summary>
    float ToFloat(T value);

    /// <summary>Round-to-nearest-even narrowing from fp32.</summary>
    T FromFloat(float value);
}

/// <summary>fp16 storage (<see cref="ILGPU.Half"/>).</summary>
internal readonly struct HalfOps : IElementOps<Half>
{
    /// <inheritdoc/>
    public float ToFloat(Half value) => (float)value;

    /// <summary>
    /// Round-to-nearest-even narrowing. On CUDA the cast compiles to <c>cvt.rn.f16.f32</c>; ILGPU's
    /// CPU conversion truncates the mantissa instead, so the CPU path rounds in software to give
    /// the same bits as the GPU.
    /// </summary>
    public Half FromFloat(float value)
    {
        if (CudaAsm.IsSupported)
            return (Half)value;
        // Round in fp32 to the nearest fp16 value; the truncating cast of an fp16-exact float is exact.
        uint bits = Interop.FloatAsInt(value);
        uint magnitude = bits & 0x7FFFFFFFu;
        float rounded;
        if (magnitude >= 0x7F800000u)
            rounded = value;                                  // NaN and infinities pass through
        else if (magnitude >= 0x477FF000u)
            rounded = Interop.IntAsFloat((bits & 0x80000000u) | 0x7F800000u);   // ≥ 65520 overflows
        else if (magnitude < 0x38800000u)
        {
            // Below fp16's smallest normal 2^-14 the grid step is 2^-24: |x|·2^24 < 1024 is rounded to
            // an integer (nearest even) by adding and subtracting 2^23 in fp32.
            float scaled = Interop.IntAsFloat(magnitude) * 16777216f;
            float mantissa = scaled + 8388608f - 8388608f;
            rounded = Interop.IntAsFloat((bits & 0x80000000u) | Interop.FloatAsInt(mantissa / 16777216f));
        }
        else
        {
            // Keep 10 of the 23 mantissa bits, rounding the 13 dropped ones to nearest even.
            rounded = Interop.IntAsFloat((bits + 0xFFFu + ((bits >> 13) & 1u)) & ~0x1FFFu);
        }
        return (Half)rounded;
    }
}

/// <summary>bf16 storage (<see cref="BFloat16"/>), converted by bit shifts.</summary>
internal readonly struct BFloat16Ops : IElementOps<BFloat16>
{
    /// <inheritdoc/>
    public float ToFloat(BFloat16 value) => value.ToFloat();

    /// <inheritdoc/>
    public BFloat16 FromFloat(float value) => BFloat16.FromFloat(value);
}
