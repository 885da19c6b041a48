using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// What a lane needs of its two query rows (g and g + 8 of its warp's slab) in one query tile of the dense
/// backward, held in registers: LSE in base 2 and D = rowsum(dO∘O). Loaded one tile ahead, beside that
/// tile's q/dO, so nothing waits for them. Rows past the sequence get LSE +∞ and D = 0: with their q and dO
/// loaded as zeros, their P and dS are exactly 0.
/// </summary>
internal struct DenseBackwardRows
{
    /// <summary>LSE · log2 e of row g.</summary>
    public float LseLog2Lo;

    /// <summary>LSE · log2 e of row g + 8.</summary>
    public float LseLog2Hi;

    /// <summary>D of row g.</summary>
    public float DeltaLo;

    /// <summary>D of row g + 8.</summary>
    public float DeltaHi;

    /// <summary>Issues the loads for sequence-local rows <paramref name="rowLo"/> and <paramref name="rowHi"/> of query head <paramref name="head"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DenseBackwardRows Load(in DenseBackwardArgs args, in SeqInfo seq, int head, int rowLo, int rowHi)
    {
        long first = (long)head * args.TotalQ + seq.QStart;
        bool validLo = rowLo < seq.LenQ, validHi = rowHi < seq.LenQ;
        return new DenseBackwardRows
        {
            LseLog2Lo = validLo ? args.Lse[first + rowLo] * MobaScale.Log2E : float.PositiveInfinity,
            LseLog2Hi = validHi ? args.Lse[first + rowHi] * MobaScale.Log2E : float.PositiveInfinity,
            DeltaLo = validLo ? args.Delta[first + rowLo] : 0f,
            DeltaHi = validHi ? args.Delta[first + rowHi] : 0f,
        };
    }
}
