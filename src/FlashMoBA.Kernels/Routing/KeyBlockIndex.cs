using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Reindex (DESIGN.md §4.1c): turns the query-centric <c>topkIndex [totalQ, H, topK]</c> into the
/// key-block-centric segment lists of <see cref="RoutingPlan"/> — for each (global key block, query
/// head) the ascending sequence-local query rows that selected it. A stable counting sort with no
/// sorting pass: (1) count selections per (segment, row chunk), (2) exclusive scan of those counts in
/// (segment, chunk) order gives every chunk its base position inside its segment, (3) one warp per
/// chunk walks its rows in order, 32 at a time, placing each row at its base plus its rank among the
/// lanes of the step that chose the same segment. The output is identical on every run.
/// </summary>
internal static class KeyBlockIndex
{
    /// <summary>Threads of a scatter group: one warp, one lane per row of a step.</summary>
    public const int ScatterThreads = RoutingGeometry.WarpRows;

    /// <summary>Most blocks per sequence for the shared-memory scatter: a mask and a cursor per block,
    /// 96 KB per one-warp group (two groups per SM); longer sequences use the global-memory scatter.</summary>
    public const int SharedScatterMaxBlocks = 12 * 1024;

    /// <summary>Selections loaded together before their atomics (ILGPU does not unroll the slot loop).</summary>
    public const int SlotsPerRound = 4;

    /// <summary>Threads per group of the element-wise count and segment-table kernels.</summary>
    public const int Threads = 256;

    /// <summary>Everything the count and scatter kernels read.</summary>
    internal readonly struct Args(ArrayView<int> topkIndex, ArrayView<int> cuSeqlensQ, ArrayView<int> cuBlocks,
                                  ArrayView<int> chunkCursors, ArrayView<int> chunkScratch, ArrayView<int> segmentRows,
                                  int batch, int totalQ, int heads, int topK, int chunkRows, int chunksPerSequence)
    {
        /// <summary>Selections <c>[totalQ, Heads, TopK]</c>, sequence-local block indices, −1 unused.</summary>
        public readonly ArrayView<int> TopkIndex = topkIndex;

        /// <summary>Query prefix sums <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuSeqlensQ = cuSeqlensQ;

        /// <summary>Block prefix sums <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuBlocks = cuBlocks;

        /// <summary>Per (segment, chunk) cell <c>[Segments × ChunksPerSequence]</c>: the exclusive scan of
        /// the counts, i.e. where the chunk's rows start in <see cref="SegmentRows"/>; the scatter
        /// advances it as its write cursor.</summary>
        public readonly ArrayView<int> ChunkCursors = chunkCursors;

        /// <summary>Per (segment, chunk) cell: the selection count in phase 1; in phase 4 the lane mask
        /// of the current 32-row step (zero between steps).</summary>
        public readonly ArrayView<int> ChunkScratch = chunkScratch;

        /// <summary>Output rows, grouped by segment.</summary>
        public readonly ArrayView<int> SegmentRows = segmentRows;

        /// <summary>Number of sequences.</summary>
        public readonly int Batch = batch;

        /// <summary>Total query rows.</summary>
        public readonly int TotalQ = totalQ;

        /// <summary>Query heads.</summary>
        public readonly int Heads = heads;

        /// <summary>Slots per row.</summary>
        public readonly int TopK = topK;

        /// <summary>Rows per chunk (multiple of 32).</summary>
        public readonly int ChunkRows = chunkRows;

        /// <summary>Chunks per sequence (cells per segment).</summary>
        public readonly int ChunksPerSequence = chunksPerSequence;

        /// <summary>Block in <paramref name="slot"/> of the row-head starting at <paramref name="slotBase"/>;
        /// −1 past the last slot or for a row-head outside the chunk (<paramref name="slotBase"/> &lt; 0).</summary>
        public int Slot(int slotBase, int slot) => slotBase >= 0 && slot < TopK ? TopkIndex[slotBase + slot] : -1;

        /// <summary>Cell of (sequence-local block, head, chunk) of <paramref name="sequence"/>.</summary>
        public int Cell(int sequence, int block, int head, int chunk)
            => ((CuBlocks[sequence] + block) * Heads + head) * ChunksPerSequence + chunk;
    }

    /// <summary>What the segment-table kernel reads and writes.</summary>
    internal readonly struct TableArgs(ArrayView<int> chunkCursors, ArrayView<int> chunkCounts,
                                       ArrayView<int> segmentOffsets, ArrayView<int> segmentCounts,
                                       int segments, int chunksPerSequence)
    {
        /// <summary>Scanned cells (exclusive prefix sums of <see cref="ChunkCounts"/>).</summary>
        public readonly ArrayView<int> ChunkCursors = chunkCursors;

        /// <summary>Per-cell counts (only the last is read: it completes the total).</summary>
        public readonly ArrayView<int> ChunkCounts = chunkCounts;

        /// <summary>Output <c>[Segments + 1]</c>.</summary>
        public readonly ArrayView<int> SegmentOffsets = segmentOffsets;

        /// <summary>Output <c>[Segments]</c>.</summary>
        public readonly ArrayView<int> SegmentCounts = segmentCounts;

        /// <summary>Number of segments.</summary>
        public readonly int Segments = segments;

        /// <summary>Cells per segment.</summary>
        public readonly int ChunksPerSequence = chunksPerSequence;
    }

    /// <summary>
    /// Phase 1: one thread per (query row, head) adds its selections to the counts of its chunk.
    /// Integer atomics, so the totals do not depend on ordering.
    /// </summary>
    internal static void CountKernel(Args args)
    {
        int index = Grid.GlobalIndex.X;
        if (index >= args.TotalQ * args.Heads)
            return;
        int head = index % args.Heads;
        int row = index / args.Heads;
        int sequence = VarlenSearch.Find(args.CuSeqlensQ, args.Batch, row);
        int chunk = (row - args.CuSeqlensQ[sequence]) / args.ChunkRows;
        int slotBase = index * args.TopK;
        for (int slot = 0; slot < args.TopK; slot += SlotsPerRound)
        {
            // Four independent loads before the atomics that consume them.
            int b0 = args.Slot(slotBase, slot), b1 = args.Slot(slotBase, slot + 1);
            int b2 = args.Slot(slotBase, slot + 2), b3 = args.Slot(slotBase, slot + 3);
            CountOne(args, sequence, b0, head, chunk);
            CountOne(args, sequence, b1, head, chunk);
            CountOne(args, sequence, b2, head, chunk);
            CountOne(args, sequence, b3, head, chunk);
        }
    }

    private static void CountOne(Args args, int sequence, int block, int head, int chunk)
    {
        if (block >= 0)
            Atomic.Add(ref args.ChunkScratch[args.Cell(sequence, block, head, chunk)], 1);
    }

    /// <summary>
    /// Phase 3: writes each segment's offset and count from the scanned cells. One thread per
    /// segment plus one for the final offset (the total number of selections).
    /// </summary>
    internal static void SegmentTableKernel(TableArgs args)
    {
        int segment = Grid.GlobalIndex.X;
        if (segment > args.Segments)
            return;
        int last = args.Segments * args.ChunksPerSequence - 1;
        int total = args.ChunkCursors[last] + args.ChunkCounts[last];
        int start = segment < args.Segments ? args.ChunkCursors[segment * args.ChunksPerSequence] : total;
        args.SegmentOffsets[segment] = start;
        if (segment < args.Segments)
        {
            int end = segment + 1 < args.Segments ? args.ChunkCursors[(segment + 1) * args.ChunksPerSequence] : total;
            args.SegmentCounts[segment] = end - start;
        }
    }
    /// <summary>
    /// Phase 4, shared-memory form (sequences of at most <see cref="SharedScatterMaxBlocks"/> blocks):
    /// one warp per (sequence, head, chunk) copies its chunk's cursors of every block of the sequence
    /// into shared memory, with an empty mask beside each, then walks the chunk (<see cref="WalkChunk"/>).
    /// </summary>
    internal static void ScatterSharedKernel(Args args)
    {
        var (sequence, head, chunk) = Task(args);
        int blocks = args.CuBlocks[sequence + 1] - args.CuBlocks[sequence];
        var shared = SharedMemory.GetDynamic<int>();
        var masks = shared.SubView(0, XMath.Max(1, blocks));
        var cursors = shared.SubView(XMath.Max(1, blocks), XMath.Max(1, blocks));
        for (int block = Group.IdxX; block < blocks; block += ScatterThreads)
        {
            masks[block] = 0;
            cursors[block] = args.ChunkCursors[args.Cell(sequence, block, head, chunk)];
        }
        Warp.Barrier();
        WalkChunk(args, sequence, head, chunk, masks, cursors, 0, 1);
    }

    /// <summary>
    /// Phase 4, global-memory form (any number of blocks): the masks and cursors are the chunk's cells
    /// of <see cref="Args.ChunkScratch"/> and <see cref="Args.ChunkCursors"/>.
    /// </summary>
    internal static void ScatterKernel(Args args)
    {
        var (sequence, head, chunk) = Task(args);
        int firstCell = args.Cell(sequence, 0, head, chunk);
        WalkChunk(args, sequence, head, chunk, args.ChunkScratch, args.ChunkCursors, firstCell,
                  args.Heads * args.ChunksPerSequence);
    }

    private static void Mark(ArrayView<int> masks, int firstCell, int cellStride, int block, int lane)
    {
        if (block >= 0)
            Atomic.Or(ref masks[firstCell + block * cellStride], 1 << lane);
    }

    /// <summary>The (sequence, head, chunk) of this scatter warp.</summary>
    private static (int Sequence, int Head, int Chunk) Task(Args args)
    {
        int task = Grid.IdxX;
        return (task / (args.ChunksPerSequence * args.Heads), task / args.ChunksPerSequence % args.Heads,
                task % args.ChunksPerSequence);
    }

    /// <summary>
    /// Walks the chunk's rows in ascending order, 32 per step. For each selection of a step, the lanes
    /// that chose the same block mark themselves in its mask; a lane's rank among them is the number of
    /// lower lanes in the mask, so rows land in ascending order; the lowest of them then advances the
    /// block's cursor and clears the mask. Block <c>j</c>'s mask and cursor live at
    /// <c>firstCell + j · cellStride</c>. Masks are accessed only through atomics; cursors only by one
    /// lane at a time, ordered by warp barriers.
    /// </summary>
    private static void WalkChunk(Args args, int sequence, int head, int chunk, ArrayView<int> masks,
                                  ArrayView<int> cursors, int firstCell, int cellStride)
    {
        int lane = Group.IdxX;
        int queryStart = args.CuSeqlensQ[sequence];
        int rowEnd = XMath.Min((chunk + 1) * args.ChunkRows, args.CuSeqlensQ[sequence + 1] - queryStart);
        int lowerLanes = (int)((1u << lane) - 1u);

        for (int stepRow = chunk * args.ChunkRows; stepRow < rowEnd; stepRow += ScatterThreads)
        {
            int row = stepRow + lane;
            int slotBase = row < rowEnd ? ((queryStart + row) * args.Heads + head) * args.TopK : -1;

            for (int slot = 0; slot < args.TopK; slot += SlotsPerRound)
            {
                // Four independent loads (from L2: the first touch of the row) before the atomics.
                int b0 = args.Slot(slotBase, slot), b1 = args.Slot(slotBase, slot + 1);
                int b2 = args.Slot(slotBase, slot + 2), b3 = args.Slot(slotBase, slot + 3);
                Mark(masks, firstCell, cellStride, b0, lane);
                Mark(masks, firstCell, cellStride, b1, lane);
                Mark(masks, firstCell, cellStride, b2, lane);
                Mark(masks, firstCell, cellStride, b3, lane);
            }
            Warp.Barrier();

            for (int slot = 0; slot < args.TopK; slot++)
            {
                int block = slotBase >= 0 ? args.TopkIndex[slotBase + slot] : -1;
                if (block >= 0)
                {
                    int cell = firstCell + block * cellStride;
                    int mask = Atomic.Or(ref masks[cell], 0);
                    int rank = IntrinsicMath.PopCount(mask & lowerLanes);
                    args.SegmentRows[cursors[cell] + rank] = row;
                }
            }
            Warp.Barrier();

            for (int slot = 0; slot < args.TopK; slot++)
            {
                int block = slotBase >= 0 ? args.TopkIndex[slotBase + slot] : -1;
                if (block >= 0)
                {
                    int cell = firstCell + block * cellStride;
                    int mask = Atomic.Or(ref masks[cell], 0);
                    // Only the lowest marked lane sees a non-empty mask with no lower bits; a lane that
                    // reads the mask after that lane cleared it sees zero and does nothing.
                    if (mask != 0 && (mask & lowerLanes) == 0)
                    {
                        cursors[cell] += IntrinsicMath.PopCount(mask);
                        Atomic.Exchange(ref masks[cell], 0);
                    }
                }
            }
            Warp.Barrier();
        }
    }

    /// <summary>
    /// Runs the reindex on <paramref name="stream"/>: fills <see cref="RoutingPlan.SegmentOffsets"/>,
    /// <see cref="RoutingPlan.SegmentCounts"/> and <see cref="RoutingPlan.SegmentRows"/> from
    /// <see cref="RoutingPlan.TopkIndex"/>.
    /// </summary>
    internal static void Launch(KernelCache cache, AcceleratorStream stream, RoutingPlan plan,
                                bool globalScatter = false)
    {
        if (plan.Geometry.Segments == 0)
        {
            plan.SegmentOffsets.View.MemSetToZero(stream);
            return;
        }
        Count(cache, stream, plan);
        Scan(cache, stream, plan);
        Scatter(cache, stream, plan, globalScatter);
    }

    /// <summary>Phase 1: zeroes the count matrix and counts selections per (segment, chunk).</summary>
    internal static void Count(KernelCache cache, AcceleratorStream stream, RoutingPlan plan)
    {
        var args = ArgsOf(plan);
        args.ChunkScratch.MemSetToZero(stream);
        int entries = plan.Geometry.TotalQ * plan.Geometry.Heads;
        cache.Get<Args>(typeof(KeyBlockIndex), nameof(CountKernel))
             .Launch(stream, new KernelConfig((entries + Threads - 1) / Threads, Threads), args);
    }

    /// <summary>Phases 2–3: scans the counts into chunk cursors and writes the segment table.</summary>
    internal static void Scan(KernelCache cache, AcceleratorStream stream, RoutingPlan plan)
    {
        var g = plan.Geometry;
        var args = ArgsOf(plan);
        TiledExclusiveScan.Launch(cache, stream, args.ChunkScratch, args.ChunkCursors, plan.ScanTemp.View);
        var table = new TableArgs(args.ChunkCursors, args.ChunkScratch, plan.SegmentOffsets.View,
                                  plan.SegmentCounts.View, g.Segments, g.ChunksPerSequence);
        cache.Get<TableArgs>(typeof(KeyBlockIndex), nameof(SegmentTableKernel))
             .Launch(stream, new KernelConfig(g.Segments / Threads + 1, Threads), table);
    }

    /// <summary>Phase 4: empties the step masks (the counts are consumed) and places every row.</summary>
    internal static void Scatter(KernelCache cache, AcceleratorStream stream, RoutingPlan plan, bool globalScatter)
    {
        var g = plan.Geometry;
        var args = ArgsOf(plan);
        args.ChunkScratch.MemSetToZero(stream);
        int tasks = g.Batch * g.Heads * g.ChunksPerSequence;
        if (globalScatter || g.MaxBlocks > SharedScatterMaxBlocks)
        {
            cache.Get<Args>(typeof(KeyBlockIndex), nameof(ScatterKernel))
                 .Launch(stream, new KernelConfig(tasks, ScatterThreads), args);
        }
        else
        {
            var shared = SharedMemoryConfig.RequestDynamic<int>(2 * Math.Max(1, g.MaxBlocks));
            cache.Get<Args>(typeof(KeyBlockIndex), nameof(ScatterSharedKernel))
                 .Launch(stream, new KernelConfig(tasks, ScatterThreads, shared), args);
        }
    }

    private static Args ArgsOf(RoutingPlan plan)
    {
        var g = plan.Geometry;
        return new Args(plan.TopkIndex.View, plan.CuSeqlensQ.View, plan.CuBlocks.View,
                        plan.ChunkCursors.View.SubView(0, g.ChunkCells), plan.ChunkScratch.View.SubView(0, g.ChunkCells),
                        plan.SegmentRows.View, g.Batch, g.TotalQ, g.Heads, g.TopK, g.ChunkRows, g.ChunksPerSequence);
    }

    /// <summary>Temporary storage (ints) the reindex scan needs for <paramref name="cells"/> elements.</summary>
    internal static long ScanTempElements(long cells) => TiledExclusiveScan.TileElements(cells);
}
