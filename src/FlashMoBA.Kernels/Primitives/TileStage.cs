using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Global addresses of the (up to) <see cref="TileStage.ChunksPerThread"/> 16-byte chunks one thread
/// stages for a tile: chunk <c>thread + j·threads</c> of the tile, −1 for a padding row or past the tile.
/// Computed once and shared by every tensor that has the same row layout (q and dO).
/// </summary>
/// <remarks>Chunk <c>i</c> is row <c>i / chunksPerRow</c>, column chunk <c>i % chunksPerRow</c> of the tile.</remarks>
internal struct StageAddresses
{
    /// <summary>Address of chunk <c>thread</c>.</summary>
    public long A0;

    /// <summary>Address of chunk <c>thread + threads</c>.</summary>
    public long A1;

    /// <summary>Address of chunk <c>thread + 2·threads</c>.</summary>
    public long A2;

    /// <summary>Address of chunk <c>thread + 3·threads</c>.</summary>
    public long A3;
}

/// <summary>
/// A tile copy split in time (software pipelining for kernels that cannot afford more CTAs): the
/// loads of the next tile are issued into registers while the current tile is computed, and stored
/// into shared memory once the CTA is done with the current one, so the memory latency hides behind
/// the MMAs. One thread holds up to <see cref="ChunksPerThread"/> chunks: the tile must have at most
/// that many chunks per thread of the group.
/// </summary>
internal struct TileStage
{
    /// <summary>Chunks one thread holds.</summary>
    public const int ChunksPerThread = 4;

    /// <summary>Chunk <c>thread</c>.</summary>
    public Chunk16 C0;

    /// <summary>Chunk <c>thread + threads</c>.</summary>
    public Chunk16 C1;

    /// <summary>Chunk <c>thread + 2·threads</c>.</summary>
    public Chunk16 C2;

    /// <summary>Chunk <c>thread + 3·threads</c>.</summary>
    public Chunk16 C3;

    /// <summary>Issues this thread's loads (zeros for padding); nothing waits for them until <see cref="Store"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TileStage Load(ArrayView<Chunk16> global, in StageAddresses at) => new()
    {
        C0 = at.A0 >= 0 ? global[at.A0] : default,
        C1 = at.A1 >= 0 ? global[at.A1] : default,
        C2 = at.A2 >= 0 ? global[at.A2] : default,
        C3 = at.A3 >= 0 ? global[at.A3] : default,
    };

    /// <summary>Writes this thread's chunks into <paramref name="tile"/> (the first <paramref name="rowCount"/> rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ArrayView<Chunk16> shared, SharedTile tile, int rowCount, int thread, int threads)
    {
        int total = rowCount * tile.ChunksPerRow;
        StoreOne(shared, tile, thread, total, C0);
        StoreOne(shared, tile, thread + threads, total, C1);
        StoreOne(shared, tile, thread + 2 * threads, total, C2);
        StoreOne(shared, tile, thread + 3 * threads, total, C3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(ArrayView<Chunk16> shared, SharedTile tile, int index, int total, Chunk16 value)
    {
        if (index >= total) return;
        int row = index / tile.ChunksPerRow;
        shared[tile.Chunk(row, index - row * tile.ChunksPerRow)] = value;
    }
}
