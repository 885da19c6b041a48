using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>Where each row of a tile comes from in global memory, in 16-byte chunks.</summary>
internal interface ITileRows
{
    /// <summary>First global chunk of tile row <paramref name="row"/>, or −1 for a padding row (copied as zeros).</summary>
    long FirstChunk(int row);
}

/// <summary>Rows listed in a table (usually in shared memory, staged by the caller): gathered query rows.</summary>
internal readonly struct TableRows : ITileRows
{
    private readonly ArrayView<int> table;

    /// <summary>Rows whose first chunks are <paramref name="table"/>[row] (−1: padding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TableRows(ArrayView<int> table) => this.table = table;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long FirstChunk(int row) => table[row];
}

/// <summary>Consecutive tokens of one head in <c>[tokens, heads, d]</c>: row r starts at <c>first + r · stride</c>.</summary>
internal readonly struct StridedRows : ITileRows
{
    private readonly long first;
    private readonly long stride;
    private readonly int validRows;

    /// <summary>Rows from <paramref name="first"/> every <paramref name="stride"/> chunks; rows at or past <paramref name="validRows"/> are padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public StridedRows(long first, long stride, int validRows)
    {
        this.first = first;
        this.stride = stride;
        this.validRows = validRows;
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long FirstChunk(int row) => row < validRows ? first + row * stride : -1;
}

/// <summary>
/// Gather-and-densify copy (DESIGN.md §4.2): rows from anywhere in global memory into one dense,
/// swizzled <see cref="SharedTile"/>, 16 bytes per chunk. Each thread issues
/// <see cref="LoadsInFlight"/> independent loads before it stores any of them: ILGPU does not unroll
/// loops, and a one-load-then-store loop leaves a whole memory latency per chunk exposed (ptxas keeps
/// it serial). Every thread of the group calls it with its own thread index.
/// </summary>
internal static class TileGather
{
    /// <summary>Independent 16-byte loads per thread and step.</summary>
    public const int LoadsInFlight = 4;

    /// <summary>Copies <paramref name="rowCount"/> rows of <paramref name="global"/> into <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GlobalToShared<TRows>(ArrayView<Chunk16> global, in TRows rows, ArrayView<Chunk16> shared,
        SharedTile tile, int rowCount, int thread, int threads)
        where TRows : struct, ITileRows
    {
        int total = rowCount * tile.ChunksPerRow;
        for (int i = thread; i < total; i += LoadsInFlight * threads)
        {
            var c0 = Load(global, rows, tile, i, total);
            var c1 = Load(global, rows, tile, i + threads, total);
            var c2 = Load(global, rows, tile, i + 2 * threads, total);
            var c3 = Load(global, rows, tile, i + 3 * threads, total);
            Store(shared, tile, i, total, c0);
            Store(shared, tile, i + threads, total, c1);
            Store(shared, tile, i + 2 * threads, total, c2);
            Store(shared, tile, i + 3 * threads, total, c3);
        }
    }

    /// <summary>
    /// Copies the same <paramref name="rowCount"/> rows of two tensors with one layout (q and dO) into two
    /// tiles of the same shape, two chunks of each in flight per thread and step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GlobalToSharedPair<TRows>(ArrayView<Chunk16> first, ArrayView<Chunk16> second, in TRows rows,
        ArrayView<Chunk16> shared, SharedTile firstTile, SharedTile secondTile, int rowCount, int thread, int threads)
        where TRows : struct, ITileRows
    {
        int total = rowCount * firstTile.ChunksPerRow;
        for (int i = thread; i < total; i += 2 * threads)
        {
            var a0 = Load(first, rows, firstTile, i, total);
            var b0 = Load(second, rows, secondTile, i, total);
            var a1 = Load(first, rows, firstTile, i + threads, total);
            var b1 = Load(second, rows, secondTile, i + threads, total);
            Store(shared, firstTile, i, total, a0);
            Store(shared, secondTile, i, total, b0);
            Store(shared, firstTile, i + threads, total, a1);
            Store(shared, secondTile, i + threads, total, b1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Chunk16 Load<TRows>(ArrayView<Chunk16> global, in TRows rows, SharedTile tile, int index, int total)
        where TRows : struct, ITileRows
    {
        if (index >= total) return default;
        int row = index / tile.ChunksPerRow;
        long first = rows.FirstChunk(row);
        return first >= 0 ? global[first + (index - row * tile.ChunksPerRow)] : default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ArrayView<Chunk16> shared, SharedTile tile, int index, int total, Chunk16 value)
    {
        if (index >= total) return;
        int row = index / tile.ChunksPerRow;
        shared[tile.Chunk(row, index - row * tile.ChunksPerRow)] = value;
    }
}
