using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Stores a dense backward warp's 16 × 32 score tile (P or dS: rows g and g + 8 of its slab, its 32 score
/// columns) as 16-bit values into a swizzled P/dS buffer, with the lane's four word offsets (one per 8-column
/// chunk) computed once per CTA, where <see cref="Acc16x32F32.StoreShared{TElem}"/> with the run-time column
/// base evaluates the swizzle for each of its 8 stores. Rows g and g + 8 have the same swizzle (g), so the high
/// row's word is the low row's plus a constant. Each store still costs an add and a scale of its word index
/// (the view is indexed in words): 10 SASS instructions fewer per warp and tile at d = 128, not more.
/// </summary>
internal readonly struct DenseScoreStore
{
    private readonly int word0, word1, word2, word3;

    /// <summary>Offsets for the calling lane in a tile of <paramref name="chunksPerRow"/> chunks per row, rows <paramref name="row0"/>.. and columns <paramref name="column0"/>.. (multiples of 16 and 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseScoreStore(int chunksPerRow, int row0, int column0)
    {
        int lane = Warp.LaneIdx, rowLo = row0 + (lane >> 2), column = column0 + 2 * (lane & 3);
        var relative = new SharedTile(0, chunksPerRow);
        word0 = relative.Word(rowLo, column);
        word1 = relative.Word(rowLo, column + 8);
        word2 = relative.Word(rowLo, column + 16);
        word3 = relative.Word(rowLo, column + 24);
    }

    /// <summary>Packs <paramref name="values"/> to <typeparamref name="TElem"/> and stores them into <paramref name="tile"/> (which has the chunks per row given at construction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store<TElem>(ArrayView<uint> shared, in Acc16x32F32 values, SharedTile tile)
        where TElem : struct, IElementOps
    {
        var e = default(TElem);
        int lo = tile.ChunkBase << 2, hi = lo + ((8 * tile.ChunksPerRow) << 2);
        shared[lo + word0] = e.Pack(values.N0.R0, values.N0.R1);
        shared[hi + word0] = e.Pack(values.N0.R2, values.N0.R3);
        shared[lo + word1] = e.Pack(values.N1.R0, values.N1.R1);
        shared[hi + word1] = e.Pack(values.N1.R2, values.N1.R3);
        shared[lo + word2] = e.Pack(values.N2.R0, values.N2.R1);
        shared[hi + word2] = e.Pack(values.N2.R2, values.N2.R3);
        shared[lo + word3] = e.Pack(values.N3.R0, values.N3.R1);
        shared[hi + word3] = e.Pack(values.N3.R2, values.N3.R3);
    }
}
