using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Where one thread's chunks of a dense forward key or value tile lie, computed once per CTA: the thread
/// always owns column chunk <c>thread % chunksPerRow</c> of rows <c>Row + j · RowStep</c>, so per tile only
/// the tile's first global chunk and its shared stage change, and every copy is one load or store at a
/// constant offset from these.
/// </summary>
internal readonly struct DenseStageLanes
{
    /// <summary>The thread's first row in the tile.</summary>
    public readonly int Row;

    /// <summary>Rows between two chunks of the thread: the CTA covers <c>RowStep</c> whole rows per pass (a multiple of 8).</summary>
    public readonly int RowStep;

    /// <summary>Global chunk offset of the thread's first chunk from the tile's first chunk.</summary>
    public readonly int GlobalOffset;

    /// <summary>Global chunks between two chunks of the thread (<c>RowStep</c> rows).</summary>
    public readonly int GlobalStep;

    /// <summary>Chunk of the thread's first chunk in a swizzled <see cref="SharedTile"/>, from its base; the swizzle is the same for every row the thread owns.</summary>
    public readonly int SharedOffset;

    /// <summary>The lanes of <paramref name="thread"/> for rows of <paramref name="chunksPerRow"/> chunks, <paramref name="rowStride"/> global chunks apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseStageLanes(int thread, int chunksPerRow, int rowStride)
    {
        Row = thread / chunksPerRow;
        RowStep = DenseForward.Threads / chunksPerRow;
        int chunk = thread - Row * chunksPerRow;
        GlobalOffset = Row * rowStride + chunk;
        GlobalStep = RowStep * rowStride;
        SharedOffset = new SharedTile(0, chunksPerRow).Chunk(Row, chunk);
    }
}

/// <summary>
/// One thread's share of a dense forward key (or value) tile in flight: <see cref="DenseForward.BlockN"/> rows
/// of d values are <c>BlockN · d / 8</c> chunks: two, four or eight per thread (d and the CTA size decide),
/// the first four in <see cref="Lower"/>, the next four in <see cref="Upper"/> (at most 32 registers). The loads are issued before
/// a tile's math and stored to the free shared-memory stage after it, so their latency hides behind the
/// MMAs.
/// </summary>
/// <remarks>
/// Register staging rather than <c>cp.async</c> (<see cref="AsyncCopy"/>): with any <c>cp.async</c> in the
/// kernel, ptxas (12.4 and 13.0) stops promoting the local variables that carry every inline-PTX operand
/// (the <c>mma.sync</c> accumulators) to registers — the d = 128 forward got a 7 KB stack frame
/// (benchmarks/results/dense-h200.md).
/// </remarks>
internal struct DenseForwardStage
{
    /// <summary>Chunks j = 0..3 of the thread (rows <c>Row + j · RowStep</c>; j = 0, 1 only when it owns two).</summary>
    public TileStage Lower;

    /// <summary>Chunks j = 4..7 (d = 128 only).</summary>
    public TileStage Upper;

    /// <summary>Chunks per thread and tile for rows of <paramref name="chunksPerRow"/> chunks (2, 4 or 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ChunksPerThread(int chunksPerRow) => DenseForward.BlockN * chunksPerRow / DenseForward.Threads;

    /// <summary>
    /// Issues this thread's loads of the tile whose first chunk is <paramref name="tile"/>[0]; rows at or past
    /// <paramref name="validRows"/> become zeros without a load. Whole tiles (all but a sequence's last) take
    /// a branch without per-row checks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DenseForwardStage Load(ArrayView<Chunk16> tile, in DenseStageLanes lanes, int validRows,
        int chunksPerRow)
    {
        var stage = default(DenseForwardStage);
        int count = ChunksPerThread(chunksPerRow);
        if (validRows >= DenseForward.BlockN)
        {
            stage.Lower = LoadFour(tile, lanes, 0, count);
            if (count == 8) stage.Upper = LoadFour(tile, lanes, 4, 4);
        }
        else
        {
            stage.Lower = LoadFour(tile, lanes, 0, count, validRows);
            if (count == 8) stage.Upper = LoadFour(tile, lanes, 4, 4, validRows);
        }
        return stage;
    }

    /// <summary>Writes this thread's chunks into the tile at <paramref name="tileBase"/> (chunks into dynamic shared memory).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ArrayView<Chunk16> shared, int tileBase, in DenseStageLanes lanes, int chunksPerRow)
    {
        // RowStep rows of chunksPerRow chunks: one chunk per thread of the CTA.
        int first = tileBase + lanes.SharedOffset, step = DenseForward.Threads;
        int count = ChunksPerThread(chunksPerRow);
        shared[first] = Lower.C0;
        shared[first + step] = Lower.C1;
        if (count == 2) return;
        shared[first + 2 * step] = Lower.C2;
        shared[first + 3 * step] = Lower.C3;
        if (count == 4) return;
        shared[first + 4 * step] = Upper.C0;
        shared[first + 5 * step] = Upper.C1;
        shared[first + 6 * step] = Upper.C2;
        shared[first + 7 * step] = Upper.C3;
    }

    /// <summary>Chunks j0 .. j0 + count − 1 (count 2 or 4) of a whole tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TileStage LoadFour(ArrayView<Chunk16> tile, in DenseStageLanes lanes, int j0, int count)
    {
        int at = lanes.GlobalOffset + j0 * lanes.GlobalStep;
        var four = new TileStage { C0 = tile[at], C1 = tile[at + lanes.GlobalStep] };
        if (count == 2) return four;
        four.C2 = tile[at + 2 * lanes.GlobalStep];
        four.C3 = tile[at + 3 * lanes.GlobalStep];
        return four;
    }

    /// <summary>Chunks j0 .. j0 + count − 1 (count 2 or 4), rows at or past <paramref name="validRows"/> as zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TileStage LoadFour(ArrayView<Chunk16> tile, in DenseStageLanes lanes, int j0, int count,
        int validRows)
    {
        int row = lanes.Row + j0 * lanes.RowStep, at = lanes.GlobalOffset + j0 * lanes.GlobalStep;
        var four = new TileStage
        {
            C0 = row < validRows ? tile[at] : default,
            C1 = row + lanes.RowStep < validRows ? tile[at + lanes.GlobalStep] : default,
        };
        if (count == 2) return four;
        four.C2 = row + 2 * lanes.RowStep < validRows ? tile[at + 2 * lanes.GlobalStep] : default;
        four.C3 = row + 3 * lanes.RowStep < validRows ? tile[at + 3 * lanes.GlobalStep] : default;
        return four;
    }
}
