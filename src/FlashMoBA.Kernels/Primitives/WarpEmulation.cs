using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// The CPU accelerator's implementation of warp-wide tile operations. A warp barrier there costs
/// ~0.4 ms (32 OS threads on few cores) and one shuffle ~1 ms, so emulating each <c>mma</c> with 12
/// shuffles would make kernels unusably slow. Instead a whole tile operation exchanges register
/// fragments once through a per-warp scratch area at the end of dynamic shared memory (two
/// barriers), and operands that live in shared memory are read there directly. Register contents
/// still follow the exact hardware layout, so a fragment-layout mistake in a kernel fails on the CPU;
/// <c>ldmatrix</c> addressing is checked separately against <see cref="ISharedOperandA.Bits"/>.
/// Only called from the CPU side of a target switch (Primitives/README.md), so none of it reaches the
/// PTX. The loops are <c>NoInlining</c> functions with by-value parameters: one copy each keeps the CPU
/// backend's IR small, and no kernel local has its address taken.
/// </summary>
internal static class WarpEmulation
{
    /// <summary>Scratch words per warp: the largest exchange is a 16×128 A operand (32 words per lane).</summary>
    public const int ScratchWordsPerWarp = 32 * 32;

    /// <summary>Extra dynamic shared memory a CPU launch of <paramref name="warps"/> warps needs.</summary>
    public static int ScratchBytes(int warps) => warps * ScratchWordsPerWarp * sizeof(uint);

    /// <summary>First scratch word of the calling warp (the scratch sits at the end of <paramref name="shared"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ScratchBase(ArrayView<uint> shared) =>
        shared.IntLength - (Group.DimX / Warp.WarpSize - Warp.WarpIdx) * ScratchWordsPerWarp;

    /// <summary>Stores this lane's k-step <paramref name="step"/> (of <paramref name="steps"/>) of an A operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Publish(ArrayView<uint> shared, int scratch, int steps, int step, in FragA16x16 a)
    {
        int at = scratch + Warp.LaneIdx * 4 * steps + 4 * step;
        shared[at] = a.R0;
        shared[at + 1] = a.R1;
        shared[at + 2] = a.R2;
        shared[at + 3] = a.R3;
    }

    /// <summary>
    /// One 16×8 output tile: <paramref name="acc"/> + Σ over <paramref name="steps"/> k-steps of A·B, A
    /// read from the fragments the warp published (layout of <see cref="FragA16x16"/>), B columns
    /// <paramref name="n"/>..+7 from shared memory, k from <paramref name="k0"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Acc16x8F32 AccumulateRegisterA<TElem, TB>(Acc16x8F32 acc, ArrayView<uint> shared, int scratch,
        int steps, TB b, int n, int k0)
        where TElem : struct, IElementOps
        where TB : struct, ISharedOperandB
    {
        var e = default(TElem);
        int lane = Warp.LaneIdx, g = lane >> 2, column = n + 2 * (lane & 3);
        for (int step = 0; step < steps; step++)
        {
            for (int kk = 0; kk < 16; kk++)
            {
                // A[g][kk] sits in lane 4g + (kk % 8) / 2, register R0 (kk < 8) or R2, half kk % 2; row g+8 in R1 / R3.
                int at = scratch + (4 * g + ((kk & 7) >> 1)) * 4 * steps + 4 * step + (kk < 8 ? 0 : 2);
                uint rowLo = shared[at], rowHi = shared[at + 1];
                float aLo = (kk & 1) == 0 ? e.Lo(rowLo) : e.Hi(rowLo);
                float aHi = (kk & 1) == 0 ? e.Lo(rowHi) : e.Hi(rowHi);
                int k = k0 + 16 * step + kk;
                float b0 = e.Lo(b.Bits(shared, k, column)), b1 = e.Lo(b.Bits(shared, k, column + 1));
                acc.R0 += aLo * b0;
                acc.R1 += aLo * b1;
                acc.R2 += aHi * b0;
                acc.R3 += aHi * b1;
            }
        }
        return acc;
    }

    /// <summary>One 16×8 output tile of one k-step with both operands read from shared memory.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Acc16x8F32 AccumulateSharedA<TElem, TA, TB>(Acc16x8F32 acc, ArrayView<uint> shared, TA a, int m0,
        TB b, int n, int k0)
        where TElem : struct, IElementOps
        where TA : struct, ISharedOperandA
        where TB : struct, ISharedOperandB
    {
        var e = default(TElem);
        int lane = Warp.LaneIdx, row = m0 + (lane >> 2), column = n + 2 * (lane & 3);
        for (int k = k0; k < k0 + 16; k++)
        {
            float aLo = e.Lo(a.Bits(shared, row, k)), aHi = e.Lo(a.Bits(shared, row + 8, k));
            float b0 = e.Lo(b.Bits(shared, k, column)), b1 = e.Lo(b.Bits(shared, k, column + 1));
            acc.R0 += aLo * b0;
            acc.R1 += aLo * b1;
            acc.R2 += aHi * b0;
            acc.R3 += aHi * b1;
        }
        return acc;
    }

    /// <summary>This lane's A fragment for rows m0..+15, k0..+15, read directly in the documented layout.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static FragA16x16 ReadFragment<TA>(ArrayView<uint> shared, TA a, int m0, int k0)
        where TA : struct, ISharedOperandA
    {
        int lane = Warp.LaneIdx, row = m0 + (lane >> 2), k = k0 + 2 * (lane & 3);
        return new FragA16x16
        {
            R0 = a.Bits(shared, row, k) | (a.Bits(shared, row, k + 1) << 16),
            R1 = a.Bits(shared, row + 8, k) | (a.Bits(shared, row + 8, k + 1) << 16),
            R2 = a.Bits(shared, row, k + 8) | (a.Bits(shared, row, k + 9) << 16),
            R3 = a.Bits(shared, row + 8, k + 8) | (a.Bits(shared, row + 8, k + 9) << 16),
        };
    }

    /// <summary>
    /// Atomic fp32 add by compare-and-swap on the bit pattern: ILGPU's CPU <c>Atomic.Add(float)</c>
    /// compares values, so a NaN target (a bug upstream) would make it spin forever instead of failing.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void AtomicAdd(ArrayView<float> global, long index, float value)
    {
        var bits = global.Cast<uint>();
        uint current = bits[index];
        while (true)
        {
            uint updated = Interop.FloatAsInt(Interop.IntAsFloat(current) + value);
            uint seen = Atomic.CompareExchange(ref bits[index], current, updated);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>Max (<paramref name="maximum"/>) or sum of each value over the lane quad, via the scratch.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static RowPair QuadReduce(RowPair values, ArrayView<uint> shared, bool maximum)
    {
        int scratch = ScratchBase(shared), lane = Warp.LaneIdx, quad = scratch + 2 * (lane & ~3);
        shared[scratch + 2 * lane] = Interop.FloatAsInt(values.Lo);
        shared[scratch + 2 * lane + 1] = Interop.FloatAsInt(values.Hi);
        Warp.Barrier();
        var result = new RowPair(Interop.IntAsFloat(shared[quad]), Interop.IntAsFloat(shared[quad + 1]));
        for (int i = 1; i < 4; i++)
        {
            float otherLo = Interop.IntAsFloat(shared[quad + 2 * i]), otherHi = Interop.IntAsFloat(shared[quad + 2 * i + 1]);
            result = maximum
                ? new RowPair(Math.Max(result.Lo, otherLo), Math.Max(result.Hi, otherHi))
                : new RowPair(result.Lo + otherLo, result.Hi + otherHi);
        }
        Warp.Barrier();
        return result;
    }
}

/// <summary>One value for row g and one for row g+8 (passed by value across non-inlined calls).</summary>
internal readonly struct RowPair(float lo, float hi)
{
    /// <summary>Row g.</summary>
    public readonly float Lo = lo;

    /// <summary>Row g+8.</summary>
    public readonly float Hi = hi;

}
