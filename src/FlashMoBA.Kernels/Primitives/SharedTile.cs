using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// A row-major tile of 16-bit values in dynamic shared memory, rows of <see cref="ChunksPerRow"/>
/// 16-byte chunks, swizzled: logical chunk <c>c</c> of row <c>r</c> lives at chunk <c>c ^ (r % 8)</c>.
/// Rows are 128 or 256 bytes long, so without the swizzle the 8 row addresses of one
/// <c>ldmatrix</c> phase would hit the same banks (8-way conflict); with it they cover all 32 banks.
/// Requires <see cref="ChunksPerRow"/> to be a multiple of 8 (64 or 128 elements per row).
/// </summary>
internal readonly struct SharedTile
{
    /// <summary>Creates a tile starting <paramref name="chunkBase"/> chunks into dynamic shared memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedTile(int chunkBase, int chunksPerRow)
    {
        ChunkBase = chunkBase;
        ChunksPerRow = chunksPerRow;
    }

    /// <summary>First chunk of the tile (16-byte units from the start of dynamic shared memory).</summary>
    public readonly int ChunkBase;

    /// <summary>16-byte chunks per row (8 elements each).</summary>
    public readonly int ChunksPerRow;

    /// <summary>Chunk index (16-byte units) of logical chunk <paramref name="chunk"/> of <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Chunk(int row, int chunk) => ChunkBase + row * ChunksPerRow + (chunk ^ (row & 7));

    /// <summary>Byte offset of logical chunk <paramref name="chunk"/> of <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ByteOffset(int row, int chunk) => Chunk(row, chunk) << 4;

    /// <summary>Index (4-byte units) of the pair holding elements <paramref name="column"/>, +1 (even column).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Word(int row, int column) => (Chunk(row, column >> 3) << 2) + ((column & 7) >> 1);

    /// <summary>The 16 bits of element (<paramref name="row"/>, <paramref name="column"/>) in the low half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Element(ArrayView<uint> shared, int row, int column) =>
        (shared[Word(row, column)] >> ((column & 1) << 4)) & 0xFFFFu;
}
