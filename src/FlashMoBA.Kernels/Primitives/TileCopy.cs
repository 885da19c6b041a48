using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Cooperative 16-byte copies between global row blocks and swizzled <see cref="SharedTile"/>s. A
/// global row block is <c>rows</c> rows of <c>tile.ChunksPerRow</c> chunks, row r starting at chunk
/// <c>firstChunk + r · rowStride</c> (e.g. one head of consecutive tokens in <c>[tokens, heads, d]</c>).
/// Every thread of the group calls it with its own <c>thread</c> index.
/// </summary>
internal static class TileCopy
{
    /// <summary>
    /// Loads <paramref name="rows"/> rows into <paramref name="tile"/>; rows at or past
    /// <paramref name="validRows"/> are written as zeros (ragged tails never read out of range).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GlobalToShared(ArrayView<Chunk16> global, long firstChunk, long rowStride, int validRows,
        ArrayView<Chunk16> shared, SharedTile tile, int rows, int thread, int threads)
    {
        int chunksPerRow = tile.ChunksPerRow;
        for (int i = thread; i < rows * chunksPerRow; i += threads)
        {
            int row = i / chunksPerRow, chunk = i - row * chunksPerRow;
            shared[tile.Chunk(row, chunk)] = row < validRows
                ? global[firstChunk + row * rowStride + chunk]
                : default;
        }
    }

    /// <summary>
    /// <see cref="GlobalToShared"/> with <see cref="AsyncCopy"/>: issues the copies and returns at once
    /// (same layout, same zero rows). The caller commits, waits and synchronises the group before any
    /// thread reads the tile. Each thread always owns the same column chunk (<c>threads</c> is a multiple
    /// of the row length), so only the row advances in the loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GlobalToSharedAsync(in AsyncSource global, long firstChunk, long rowStride, int validRows,
        ArrayView<Chunk16> shared, SharedTile tile, int rows, int thread, int threads)
    {
        int chunksPerRow = tile.ChunksPerRow, rowsPerStep = threads / chunksPerRow;
        int chunk = thread % chunksPerRow;
        for (int row = thread / chunksPerRow; row < rows; row += rowsPerStep)
        {
            AsyncCopy.Chunk(global, firstChunk + row * rowStride + chunk, row < validRows, shared,
                tile.Chunk(row, chunk));
        }
    }
}
