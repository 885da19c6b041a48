using System.Runtime.CompilerServices;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Element-type specialisation for kernels: a kernel generic over <c>TElem : struct, IElementOps</c>
/// calls <c>default(TElem).Mma(...)</c> and ILGPU compiles one body per element type, with no branch.
/// </summary>
internal interface IElementOps
{
    /// <summary><paramref name="acc"/> += <paramref name="a"/>·<paramref name="b"/> (m16n8k16, fp32 accumulators).</summary>
    void Mma(ref Acc16x8F32 acc, in FragA16x16 a, in FragB16x8 b);

    /// <summary>Packs two floats (lo in the low half) with round-to-nearest-even.</summary>
    uint Pack(float lo, float hi);

    /// <summary>Widens the low half of a packed pair.</summary>
    float Lo(uint packed);

    /// <summary>Widens the high half of a packed pair.</summary>
    float Hi(uint packed);
}

/// <summary>IEEE fp16 inputs.</summary>
internal readonly struct Fp16Ops : IElementOps
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Mma(ref Acc16x8F32 acc, in FragA16x16 a, in FragB16x8 b) => WarpMma.M16N8K16F16(ref acc, a, b);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Pack(float lo, float hi) => HalfPack.PackF16(lo, hi);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Lo(uint packed) => HalfPack.F16Lo(packed);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Hi(uint packed) => HalfPack.F16Hi(packed);
}

/// <summary>bfloat16 inputs.</summary>
internal readonly struct Bf16Ops : IElementOps
{
    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Mma(ref Acc16x8F32 acc, in FragA16x16 a, in FragB16x8 b) => WarpMma.M16N8K16Bf16(ref acc, a, b);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Pack(float lo, float hi) => HalfPack.PackBf16(lo, hi);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Lo(uint packed) => HalfPack.Bf16Lo(packed);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Hi(uint packed) => HalfPack.Bf16Hi(packed);
}
