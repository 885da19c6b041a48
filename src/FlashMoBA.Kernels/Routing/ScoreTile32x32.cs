using FlashMoBA.Kernels.Primitives;
using ILGPU;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// One warp's 32×32 block of fp32 gate scores: two m16 row slabs (<c>S0n</c>, <c>S1n</c>) × four n8
/// column groups (<c>Sm0</c>..<c>Sm3</c>), in the accumulator layout of <see cref="Acc16x8F32"/>. Scalar
/// fields, not an array, so the eight accumulators stay in registers (ILGPU does not unroll loops).
/// </summary>
internal struct ScoreTile32x32
{
    /// <summary>Rows 0–15, columns 0–7.</summary>
    public Acc16x8F32 S00;

    /// <summary>Rows 0–15, columns 8–15.</summary>
    public Acc16x8F32 S01;

    /// <summary>Rows 0–15, columns 16–23.</summary>
    public Acc16x8F32 S02;

    /// <summary>Rows 0–15, columns 24–31.</summary>
    public Acc16x8F32 S03;

    /// <summary>Rows 16–31, columns 0–7.</summary>
    public Acc16x8F32 S10;

    /// <summary>Rows 16–31, columns 8–15.</summary>
    public Acc16x8F32 S11;

    /// <summary>Rows 16–31, columns 16–23.</summary>
    public Acc16x8F32 S12;

    /// <summary>Rows 16–31, columns 24–31.</summary>
    public Acc16x8F32 S13;

    /// <summary>
    /// Adds <c>Q[rowBase .. rowBase+32) · C[0 .. 32)ᵀ</c> over <paramref name="pairs"/> packed pairs
    /// (HeadDim / 2) of the row-major shared tiles <paramref name="q"/> and <paramref name="c"/>
    /// (row stride <paramref name="stride"/> words). Each k-step loads two A and four B fragments for
    /// eight MMAs. All 32 lanes must call it together.
    /// </summary>
    public void Accumulate<TElem>(ArrayView<uint> q, ArrayView<uint> c, int rowBase, int stride, int pairs)
        where TElem : struct, IElementOps
    {
        var ops = default(TElem);
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        int a0Lo = (rowBase + g) * stride + t, a0Hi = a0Lo + 8 * stride;
        int a1Lo = a0Lo + 16 * stride, a1Hi = a0Lo + 24 * stride;
        int b0 = g * stride + t, b1 = b0 + 8 * stride, b2 = b0 + 16 * stride, b3 = b0 + 24 * stride;
        for (int k = 0; k < pairs; k += 8)
        {
            var a0 = new FragA16x16 { R0 = q[a0Lo + k], R1 = q[a0Hi + k], R2 = q[a0Lo + k + 4], R3 = q[a0Hi + k + 4] };
            var a1 = new FragA16x16 { R0 = q[a1Lo + k], R1 = q[a1Hi + k], R2 = q[a1Lo + k + 4], R3 = q[a1Hi + k + 4] };
            var f0 = new FragB16x8 { R0 = c[b0 + k], R1 = c[b0 + k + 4] };
            var f1 = new FragB16x8 { R0 = c[b1 + k], R1 = c[b1 + k + 4] };
            var f2 = new FragB16x8 { R0 = c[b2 + k], R1 = c[b2 + k + 4] };
            var f3 = new FragB16x8 { R0 = c[b3 + k], R1 = c[b3 + k + 4] };
            ops.Mma(ref S00, a0, f0);
            ops.Mma(ref S01, a0, f1);
            ops.Mma(ref S02, a0, f2);
            ops.Mma(ref S03, a0, f3);
            ops.Mma(ref S10, a1, f0);
            ops.Mma(ref S11, a1, f1);
            ops.Mma(ref S12, a1, f2);
            ops.Mma(ref S13, a1, f3);
        }
    }

    /// <summary>Writes the tile row-major into <paramref name="scores"/> (row stride
    /// <paramref name="stride"/> floats). All 32 lanes must call it together.</summary>
    public readonly void Store(ArrayView<float> scores, int stride)
    {
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        int top = g * stride + 2 * t;
        int bottom = top + 16 * stride;
        StoreAcc(S00, scores, top, stride);
        StoreAcc(S01, scores, top + 8, stride);
        StoreAcc(S02, scores, top + 16, stride);
        StoreAcc(S03, scores, top + 24, stride);
        StoreAcc(S10, scores, bottom, stride);
        StoreAcc(S11, scores, bottom + 8, stride);
        StoreAcc(S12, scores, bottom + 16, stride);
        StoreAcc(S13, scores, bottom + 24, stride);
    }

    /// <summary>Rows g and g+8, columns 2t and 2t+1 of one accumulator, from the lane's first element.</summary>
    private static void StoreAcc(in Acc16x8F32 acc, ArrayView<float> scores, int first, int stride)
    {
        scores[first] = acc.R0;
        scores[first + 1] = acc.R1;
        scores[first + 8 * stride] = acc.R2;
        scores[first + 8 * stride + 1] = acc.R3;
    }
}
