using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// One thread's share of a dense forward key (or value) tile in flight: <see cref="DenseForward.BlockN"/> rows
/// of d values are <c>BlockN · d / 8</c> chunks, <see cref="TileStage.ChunksPerThread"/> per thread and
/// <see cref="TileStage"/> in <see cref="Lower"/> (d = 64: the whole tile) plus <see cref="Upper"/> at
/// d = 128 (32 registers in all). The loads are issued before a tile's math and stored to the free
/// shared-memory stage after it, so their latency hides behind the MMAs.
/// </summary>
/// <remarks>
/// Register staging rather than <c>cp.async</c>: with any <c>cp.async</c> in the kernel, ptxas (12.4) stops
/// promoting the local variables that carry every inline-PTX operand (the <c>mma.sync</c> accumulators) to
/// registers — the d = 128 forward got a 7 KB stack frame (benchmarks/results/dense-h200.md).
/// </remarks>
internal struct DenseForwardStage
{
    /// <summary>Rows 0 .. <c>RowsPerStage − 1</c> of the tile.</summary>
    public TileStage Lower;

    /// <summary>Rows <c>RowsPerStage</c> .. <c>BlockN − 1</c> (d = 128 only).</summary>
    public TileStage Upper;

    /// <summary>Rows one <see cref="TileStage"/> covers for rows of <paramref name="chunksPerRow"/> chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RowsPerStage(int chunksPerRow) => TileStage.ChunksPerThread * DenseForward.Threads / chunksPerRow;

    /// <summary>
    /// Issues this thread's loads of the tile whose row r starts at chunk <c>first + r · stride</c>; rows at
    /// or past <paramref name="validRows"/> become zeros without a load.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DenseForwardStage Load(ArrayView<Chunk16> global, long first, long stride, int validRows,
        int chunksPerRow, int thread)
    {
        int rows = RowsPerStage(chunksPerRow);
        var stage = default(DenseForwardStage);
        stage.Lower = TileStage.Load(global, Addresses(first, stride, validRows, chunksPerRow, 0, thread));
        if (rows < DenseForward.BlockN)
            stage.Upper = TileStage.Load(global, Addresses(first, stride, validRows, chunksPerRow, rows, thread));
        return stage;
    }

    /// <summary>Writes this thread's chunks into <paramref name="tile"/> (swizzled, <see cref="DenseForward.BlockN"/> rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ArrayView<Chunk16> shared, SharedTile tile, int thread)
    {
        int rows = RowsPerStage(tile.ChunksPerRow);
        Lower.Store(shared, tile, rows, thread, DenseForward.Threads);
        // A whole number of 8-row swizzle periods further down: the same swizzle, a later chunk base.
        if (rows < DenseForward.BlockN)
            Upper.Store(shared, new SharedTile(tile.ChunkBase + rows * tile.ChunksPerRow, tile.ChunksPerRow), rows,
                thread, DenseForward.Threads);
    }

    /// <summary>Chunks <c>thread + j · Threads</c> of rows <paramref name="row0"/>.. (row-major in the tile, as <see cref="TileStage.Store"/> expects).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static StageAddresses Addresses(long first, long stride, int validRows, int chunksPerRow, int row0,
        int thread)
    {
        int rowStep = DenseForward.Threads / chunksPerRow, row = row0 + thread / chunksPerRow;
        long chunk = thread % chunksPerRow;
        return new StageAddresses
        {
            A0 = row < validRows ? first + row * stride + chunk : -1,
            A1 = row + rowStep < validRows ? first + (row + rowStep) * stride + chunk : -1,
            A2 = row + 2 * rowStep < validRows ? first + (row + 2 * rowStep) * stride + chunk : -1,
            A3 = row + 3 * rowStep < validRows ? first + (row + 3 * rowStep) * stride + chunk : -1,
        };
    }
}
