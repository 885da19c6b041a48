using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Exclusive prefix sum of int32 counts in three launches: each tile of <see cref="TileItems"/> counts
/// writes its total, one group scans the totals, each tile rescans its counts from its base. The
/// reindex scans about a million cells at 64K tokens; ILGPU.Algorithms' single-pass scan spent
/// 0.32 ms on a quarter of that on the H200 (Nsight Compute, 1.5% of memory throughput: its tiles
/// wait on each other in turn), where reading and writing 4 MB takes a few microseconds.
/// </summary>
internal static class TiledExclusiveScan
{
    /// <summary>Threads per group of every phase.</summary>
    public const int Threads = 256;

    /// <summary>Consecutive counts per thread: 64 bytes, whole sectors.</summary>
    public const int ItemsPerThread = 16;

    /// <summary>Counts per tile (one group).</summary>
    public const int TileItems = Threads * ItemsPerThread;

    /// <summary>Everything the three phases read and write.</summary>
    internal readonly struct Args(ArrayView<int> counts, ArrayView<int> prefixes, ArrayView<int> tileBases, int length)
    {
        /// <summary>Input counts <c>[Length]</c>.</summary>
        public readonly ArrayView<int> Counts = counts;

        /// <summary>Output: the sum of the counts before each position <c>[Length]</c>.</summary>
        public readonly ArrayView<int> Prefixes = prefixes;

        /// <summary>Per tile: its total, then (after the middle phase) the sum of all tiles before it.</summary>
        public readonly ArrayView<int> TileBases = tileBases;

        /// <summary>Number of counts.</summary>
        public readonly int Length = length;

        /// <summary>Number of tiles.</summary>
        public int Tiles => (Length + TileItems - 1) / TileItems;
    }

    /// <summary>Ints of tile storage a scan of <paramref name="length"/> counts needs.</summary>
    public static long TileElements(long length) => Math.Max(1L, (length + TileItems - 1) / TileItems);

    /// <summary>
    /// Enqueues the scan of <paramref name="counts"/> into <paramref name="prefixes"/> (distinct
    /// buffers of equal length) using <paramref name="tileBases"/> (at least
    /// <see cref="TileElements"/> ints) as scratch.
    /// </summary>
    public static void Launch(KernelCache cache, AcceleratorStream stream, ArrayView<int> counts,
                              ArrayView<int> prefixes, ArrayView<int> tileBases)
    {
        if (counts.Length == 0)
            return;
        var args = new Args(counts, prefixes, tileBases, checked((int)counts.Length));
        cache.Get<Args>(typeof(TiledExclusiveScan), nameof(TileTotalsKernel))
             .Launch(stream, new KernelConfig(args.Tiles, Threads), args);
        cache.Get<Args>(typeof(TiledExclusiveScan), nameof(TileBasesKernel))
             .Launch(stream, new KernelConfig(1, Threads), args);
        cache.Get<Args>(typeof(TiledExclusiveScan), nameof(TilePrefixesKernel))
             .Launch(stream, new KernelConfig(args.Tiles, Threads), args);
    }

    /// <summary>Phase 1: one group per tile writes the tile's total.</summary>
    internal static void TileTotalsKernel(Args args)
    {
        int total = GroupExtensions.Reduce<int, AddInt32>(ThreadSum(args, ThreadStart(Grid.IdxX, Group.IdxX)));
        if (Group.IdxX == 0)
            args.TileBases[Grid.IdxX] = total;
    }

    /// <summary>Phase 2: one group turns the tile totals into exclusive tile bases, <see cref="Threads"/> at a time.</summary>
    internal static void TileBasesKernel(Args args)
    {
        int carry = 0;
        for (int first = 0; first < args.Tiles; first += Threads)
        {
            int tile = first + Group.IdxX;
            int total = tile < args.Tiles ? args.TileBases[tile] : 0;
            int before = GroupExtensions.ExclusiveScan<int, AddInt32>(total);
            if (tile < args.Tiles)
                args.TileBases[tile] = carry + before;
            carry += Group.Broadcast(before + total, Threads - 1);
        }
    }

    /// <summary>Phase 3: one group per tile writes each count's prefix from the tile base and the thread's rank.</summary>
    internal static void TilePrefixesKernel(Args args)
    {
        int start = ThreadStart(Grid.IdxX, Group.IdxX);
        int prefix = args.TileBases[Grid.IdxX] + GroupExtensions.ExclusiveScan<int, AddInt32>(ThreadSum(args, start));
        int end = XMath.Min(start + ItemsPerThread, args.Length);
        for (int i = start; i < end; i++)
        {
            int count = args.Counts[i];
            args.Prefixes[i] = prefix;
            prefix += count;
        }
    }

    private static int ThreadStart(int tile, int thread) => tile * TileItems + thread * ItemsPerThread;

    /// <summary>Sum of the thread's <see cref="ItemsPerThread"/> counts from <paramref name="start"/> (past the end: 0).</summary>
    private static int ThreadSum(Args args, int start)
    {
        int end = XMath.Min(start + ItemsPerThread, args.Length);
        int sum = 0;
        for (int i = start; i < end; i++)
            sum += args.Counts[i];
        return sum;
    }
}
