using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// <see cref="TileB"/> (B = T with T stored [k][n]: dO in dV = Pᵀ·dO, Q in dK = dSᵀ·Q, K in dQ = dS·K) restricted
/// to the 32 or 64 columns a dense backward warp owns, from <c>column0</c> (a multiple of 32, known only at run
/// time). Column n0 of the math is column <c>column0 + n0</c> of the tile. The lane's four byte offsets (one per
/// chunk pair of the warp's columns) are computed once, so the column base never enters the per-<c>ldmatrix</c>
/// swizzle: with the whole-tile <see cref="DenseValuesOperand"/> and a run-time n0 the chunk selection compiled
/// to branches around every <c>ldmatrix</c>.
/// </summary>
internal readonly struct DenseColumnsOperand : ISharedOperandB
{
    private readonly SharedTile tile;
    private readonly int column0;
    private readonly int offset0, offset2, offset4, offset6;

    /// <summary>Columns <paramref name="column0"/>.. of <paramref name="tile"/> for the calling lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseColumnsOperand(SharedTile tile, int column0)
    {
        // Matrix i: T rows k0 + 8(i%2) .. +7, chunk (column0 + n0)/8 + i/2 (as TileB); k0 is a multiple of 8,
        // so the row's swizzle is lane % 8.
        int lane = Warp.LaneIdx, matrix = lane >> 3, swizzle = lane & 7;
        int chunk = (column0 >> 3) + (matrix >> 1);
        int row = (tile.ChunkBase + (swizzle + ((matrix & 1) << 3)) * tile.ChunksPerRow) << 4;
        this.tile = tile;
        this.column0 = column0;
        offset0 = row + ((chunk ^ swizzle) << 4);
        offset2 = row + (((chunk + 2) ^ swizzle) << 4);
        offset4 = row + (((chunk + 4) ^ swizzle) << 4);
        offset6 = row + (((chunk + 6) ^ swizzle) << 4);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load2(ArrayView<uint> shared, int n0, int k0, out FragB16x8 left,
        out FragB16x8 right)
    {
        int pair = n0 >> 3;    // 0, 2, 4 or 6 once the MMA loop is unrolled
        int lane = pair == 0 ? offset0 : pair == 2 ? offset2 : pair == 4 ? offset4 : offset6;
        var m = LdMatrix.X4Trans(shared, lane + ((k0 * tile.ChunksPerRow) << 4));
        left = new FragB16x8 { R0 = m.R0, R1 = m.R1 };
        right = new FragB16x8 { R0 = m.R2, R1 = m.R3 };
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int k, int n) => tile.Element(shared, k, column0 + n);
}

/// <summary>
/// <see cref="TileA"/> (A = T with T stored [m][k]: q in S = q·Kᵀ, dO in dP = dO·Vᵀ, dS in dQ = dS·K) restricted
/// to the 16 rows of a warp's slab from <c>row0</c> (a multiple of 16, known only at run time); m0 of the math is
/// relative to it, so the warp passes 0. The lane's four byte offsets (<see cref="SwizzledLaneOffsets"/>) are
/// computed once per tile, so a k-step's <c>ldmatrix</c> address is one of them plus a constant instead of a
/// swizzle evaluated per load.
/// </summary>
internal readonly struct DenseSlabRowsOperand : ISharedOperandA
{
    private readonly SharedTile tile;
    private readonly int row0;
    private readonly SwizzledLaneOffsets offsets;

    /// <summary>Rows <paramref name="row0"/>.. of <paramref name="tile"/> for the calling lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseSlabRowsOperand(SharedTile tile, int row0)
    {
        // Lanes 0-15 address rows row0..row0+15 at chunk k0/8, lanes 16-31 the next chunk (as TileA).
        int lane = Warp.LaneIdx;
        this.tile = tile;
        this.row0 = row0;
        offsets = new SwizzledLaneOffsets(tile, row0 + (lane & 15), (lane >> 4) ^ (lane & 7));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FragA16x16 Load(ArrayView<uint> shared, int m0, int k0) =>
        LdMatrix.X4(shared, offsets.At(m0, k0 >> 3, tile.ChunksPerRow));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int m, int k) => tile.Element(shared, row0 + m, k);
}

/// <summary>
/// <see cref="TransposedTileA"/> (A = Tᵀ with T stored [k][m]: Pᵀ in dV = Pᵀ·dO, dSᵀ in dK = dSᵀ·Q) restricted to
/// the 16 columns of T from <c>column0</c> (the warp's slab, a multiple of 16 known only at run time). The math's
/// m0 must be 0 (the operand is one fragment wide). The lane's chunk is fixed, and k-steps move by whole groups
/// of 8 rows, which keep the swizzle: one byte offset per lane, plus a constant per k-step.
/// </summary>
internal readonly struct DenseSlabColumnsOperand : ISharedOperandA
{
    private readonly SharedTile tile;
    private readonly int column0;
    private readonly int offset;

    /// <summary>Columns <paramref name="column0"/>..+15 of <paramref name="tile"/> for the calling lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseSlabColumnsOperand(SharedTile tile, int column0)
    {
        // Matrix i: T rows k0 + 8(i/2) .. +7, chunk column0/8 + i%2 (as TransposedTileA).
        int lane = Warp.LaneIdx, matrix = lane >> 3;
        this.tile = tile;
        this.column0 = column0;
        offset = tile.ByteOffset((lane & 7) + ((matrix >> 1) << 3), (column0 >> 3) + (matrix & 1));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FragA16x16 Load(ArrayView<uint> shared, int m0, int k0) =>
        LdMatrix.X4Trans(shared, offset + ((k0 * tile.ChunksPerRow) << 4));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int m, int k) => tile.Element(shared, k, column0 + m);
}
