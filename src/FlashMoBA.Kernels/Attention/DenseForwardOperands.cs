using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The byte offsets a lane's <c>ldmatrix</c> row addresses take in a swizzled <see cref="SharedTile"/>, computed
/// once per tile instead of once per <c>ldmatrix</c>. A lane addresses row <c>r0 + lane row</c> (r0 a multiple
/// of 8, so the row's swizzle is <c>lane % 8</c>) at chunk <c>c0 + m</c> with c0 even and m ∈ {0, 1}. Then
/// <c>(c0 + m) ^ (lane % 8) = (c0 &amp; 8) + ((c0 &amp; 7) ^ x)</c> with <c>x = m ^ (lane % 8)</c>: four
/// offsets per lane (<c>c0 &amp; 7</c> = 0, 2, 4, 6) plus constants that fold into the instruction's immediate
/// offset once the MMA loops are unrolled.
/// </summary>
internal readonly struct SwizzledLaneOffsets
{
    private readonly int offset0, offset2, offset4, offset6;

    /// <summary>Offsets of lane row <paramref name="laneRow"/> with chunk bits <paramref name="laneChunk"/> (m ^ lane % 8) in <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SwizzledLaneOffsets(SharedTile tile, int laneRow, int laneChunk)
    {
        int row = (tile.ChunkBase + laneRow * tile.ChunksPerRow) << 4;
        offset0 = row + (laneChunk << 4);
        offset2 = row + ((2 ^ laneChunk) << 4);
        offset4 = row + ((4 ^ laneChunk) << 4);
        offset6 = row + ((6 ^ laneChunk) << 4);
    }

    /// <summary>Byte offset of the lane's row at <paramref name="rowOffset"/> rows further, chunk pair <paramref name="chunk0"/> (even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int At(int rowOffset, int chunk0, int chunksPerRow)
    {
        int low = chunk0 & 7;
        int lane = low == 0 ? offset0 : low == 2 ? offset2 : low == 4 ? offset4 : offset6;
        return lane + ((rowOffset * chunksPerRow + (chunk0 & 8)) << 4);
    }
}

/// <summary>
/// <see cref="TransposedTileB"/> (B = Tᵀ with T stored [n][k]: the keys in S = Q·Kᵀ) with the lane addresses
/// of <see cref="SwizzledLaneOffsets"/>: the same fragments, three integer instructions fewer per
/// <c>ldmatrix</c>.
/// </summary>
internal readonly struct DenseKeysOperand : ISharedOperandB
{
    private readonly SharedTile tile;
    private readonly SwizzledLaneOffsets offsets;

    /// <summary>Wraps <paramref name="tile"/> for the calling lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseKeysOperand(SharedTile tile)
    {
        // Matrix i: T rows n0 + 8(i/2) .. +7, chunk k0/8 + i%2 (as TransposedTileB).
        int lane = Warp.LaneIdx, matrix = lane >> 3;
        this.tile = tile;
        offsets = new SwizzledLaneOffsets(tile, (lane & 7) + ((matrix >> 1) << 3), (matrix & 1) ^ (lane & 7));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load2(ArrayView<uint> shared, int n0, int k0, out FragB16x8 left, out FragB16x8 right)
    {
        var m = LdMatrix.X4(shared, offsets.At(n0, k0 >> 3, tile.ChunksPerRow));
        left = new FragB16x8 { R0 = m.R0, R1 = m.R1 };
        right = new FragB16x8 { R0 = m.R2, R1 = m.R3 };
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int k, int n) => tile.Element(shared, n, k);
}

/// <summary>
/// <see cref="TileB"/> (B = T with T stored [k][n]: the values in O = P·V) with the lane addresses of
/// <see cref="SwizzledLaneOffsets"/>.
/// </summary>
internal readonly struct DenseValuesOperand : ISharedOperandB
{
    private readonly SharedTile tile;
    private readonly SwizzledLaneOffsets offsets;

    /// <summary>Wraps <paramref name="tile"/> for the calling lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseValuesOperand(SharedTile tile)
    {
        // Matrix i: T rows k0 + 8(i%2) .. +7, chunk n0/8 + i/2 (as TileB).
        int lane = Warp.LaneIdx, matrix = lane >> 3;
        this.tile = tile;
        offsets = new SwizzledLaneOffsets(tile, (lane & 7) + ((matrix & 1) << 3), (matrix >> 1) ^ (lane & 7));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load2(ArrayView<uint> shared, int n0, int k0, out FragB16x8 left, out FragB16x8 right)
    {
        var m = LdMatrix.X4Trans(shared, offsets.At(k0, n0 >> 3, tile.ChunksPerRow));
        left = new FragB16x8 { R0 = m.R0, R1 = m.R1 };
        right = new FragB16x8 { R0 = m.R2, R1 = m.R3 };
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int k, int n) => tile.Element(shared, k, n);
}
