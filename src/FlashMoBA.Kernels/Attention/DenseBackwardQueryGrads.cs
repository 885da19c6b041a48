using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Adds a warp's 16 × 32 fp32 dQ tile to the global accumulator with 16-byte vector reductions
/// (<see cref="GlobalAccumulator.AddQuad"/>): the MMA layout gives a lane two adjacent columns per row, so the
/// tile is first rearranged through a warp-private slice of shared memory (<see cref="RowWords"/> words per row;
/// the padding keeps the 8-byte stores of a half-warp on distinct banks) and read back as 16-byte rows: 4
/// reductions per lane instead of 8 of <c>v2</c>, each warp instruction covering two whole 128-byte lines.
/// </summary>
internal static class DenseBackwardQueryGrads
{
    /// <summary>Shared-memory words per staged row: 32 columns + 8 words of padding (16-byte aligned rows).</summary>
    public const int RowWords = 40;

    /// <summary>Words of one warp's staging slice (16 rows).</summary>
    public const int SliceWords = 16 * RowWords;

    /// <summary>
    /// Adds <c>scale · tile</c> to the accumulator: row r (0..15) of the tile goes to elements
    /// <c>firstElement + r · rowStride</c> .. +31 (a multiple of 4), rows at or past <paramref name="validRows"/>
    /// are skipped. <paramref name="sliceWord"/> is the warp's slice (its own, not read by other warps).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(ArrayView<Chunk16> shared, int sliceWord, in Acc16x32F32 tile, float scale,
        in GlobalAccumulator target, long firstElement, long rowStride, int validRows)
    {
        var pairs = shared.Cast<ulong>();
        int lane = Warp.LaneIdx;
        int lo = (sliceWord + (lane >> 2) * RowWords + 2 * (lane & 3)) >> 1, hi = lo + 4 * RowWords;
        pairs[lo] = Pair(tile.N0.R0 * scale, tile.N0.R1 * scale);
        pairs[hi] = Pair(tile.N0.R2 * scale, tile.N0.R3 * scale);
        pairs[lo + 4] = Pair(tile.N1.R0 * scale, tile.N1.R1 * scale);
        pairs[hi + 4] = Pair(tile.N1.R2 * scale, tile.N1.R3 * scale);
        pairs[lo + 8] = Pair(tile.N2.R0 * scale, tile.N2.R1 * scale);
        pairs[hi + 8] = Pair(tile.N2.R2 * scale, tile.N2.R3 * scale);
        pairs[lo + 12] = Pair(tile.N3.R0 * scale, tile.N3.R1 * scale);
        pairs[hi + 12] = Pair(tile.N3.R2 * scale, tile.N3.R3 * scale);
        Warp.Barrier();

        // Lane l reads rows l/8 + 4i, columns 4(l % 8) .. +3.
        int row = lane >> 3, column = 4 * (lane & 7);
        int chunk = (sliceWord + row * RowWords + column) >> 2;
        long element = firstElement + row * rowStride + column;
        const int ChunkStep = 4 * RowWords / 4;
        AddChunk(target, element, shared[chunk], row < validRows);
        AddChunk(target, element + 4 * rowStride, shared[chunk + ChunkStep], row + 4 < validRows);
        AddChunk(target, element + 8 * rowStride, shared[chunk + 2 * ChunkStep], row + 8 < validRows);
        AddChunk(target, element + 12 * rowStride, shared[chunk + 3 * ChunkStep], row + 12 < validRows);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Pair(float lo, float hi) =>
        (ulong)Interop.FloatAsInt(lo) | ((ulong)Interop.FloatAsInt(hi) << 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddChunk(in GlobalAccumulator target, long element, Chunk16 values, bool valid)
    {
        if (!valid) return;
        target.AddQuad(element, Interop.IntAsFloat(values.X), Interop.IntAsFloat(values.Y),
            Interop.IntAsFloat(values.Z), Interop.IntAsFloat(values.W));
    }
}
