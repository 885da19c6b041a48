using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
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

    /// <summary>Threads per group of the element-wise count and segment-table kernels.</summary>
    public const int Threads = 256;

    private static readonly ConditionalWeakTable<Accelerator, Scan<int, Stride1D.Dense, Stride1D.Dense>> Scans = new();

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
        for (int slot = 0; slot < args.TopK; slot++)
        {
            int block = args.TopkIndex[slotBase + slot];
            if (block >= 0)
                Atomic.Add(ref args.ChunkScratch[args.Cell(sequence, block, head, chunk)], 1);
        }
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
    /// Phase 4: one warp per (sequence, head, chunk) walks the chunk's rows in ascending order, 32 per
    /// step. For each selection of a step, the lanes that chose the same segment mark themselves in
    /// that cell's mask; a lane's rank among them is the number of lower lanes in the mask, so rows are
    /// placed in ascending order; the lowest of them then advances the cell's cursor and clears the
    /// mask. Masks are accessed only through atomics; cursors are private to the warp, ordered by
    /// warp barriers.
    /// </summary>
    internal static void ScatterKernel(Args args)
    {
        int lane = Group.IdxX;
        int task = Grid.IdxX;
        int chunk = task % args.ChunksPerSequence;
        int head = task / args.ChunksPerSequence % args.Heads;
        int sequence = task / (args.ChunksPerSequence * args.Heads);
        int queryStart = args.CuSeqlensQ[sequence];
        int rowEnd = XMath.Min((chunk + 1) * args.ChunkRows, args.CuSeqlensQ[sequence + 1] - queryStart);
        int lowerLanes = (int)((1u << lane) - 1u);

        for (int stepRow = chunk * args.ChunkRows; stepRow < rowEnd; stepRow += ScatterThreads)
        {
            int row = stepRow + lane;
            int slotBase = row < rowEnd ? ((queryStart + row) * args.Heads + head) * args.TopK : -1;

            for (int slot = 0; slot < args.TopK; slot++)
            {
                int block = slotBase >= 0 ? args.TopkIndex[slotBase + slot] : -1;
                if (block >= 0)
                    Atomic.Or(ref args.ChunkScratch[args.Cell(sequence, block, head, chunk)], 1 << lane);
            }
            Warp.Barrier();

            for (int slot = 0; slot < args.TopK; slot++)
            {
                int block = slotBase >= 0 ? args.TopkIndex[slotBase + slot] : -1;
                if (block >= 0)
                {
                    int cell = args.Cell(sequence, block, head, chunk);
                    int mask = Atomic.Or(ref args.ChunkScratch[cell], 0);
                    int rank = IntrinsicMath.PopCount(mask & lowerLanes);
                    args.SegmentRows[args.ChunkCursors[cell] + rank] = row;
                }
            }
            Warp.Barrier();

            for (int slot = 0; slot < args.TopK; slot++)
            {
                int block = slotBase >= 0 ? args.TopkIndex[slotBase + slot] : -1;
                if (block >= 0)
                {
                    int cell = args.Cell(sequence, block, head, chunk);
                    int mask = Atomic.Or(ref args.ChunkScratch[cell], 0);
                    // Only the lowest marked lane sees a non-empty mask with no lower bits; a lane that
                    // reads the mask after that lane cleared it sees zero and does nothing.
                    if (mask != 0 && (mask & lowerLanes) == 0)
                    {
                        args.ChunkCursors[cell] += IntrinsicMath.PopCount(mask);
                        Atomic.Exchange(ref args.ChunkScratch[cell], 0);
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
    internal static void Launch(KernelCache cache, AcceleratorStream stream, RoutingPlan plan)
    {
        var geometry = plan.Geometry;
        if (geometry.Segments == 0)
        {
            plan.SegmentOffsets.View.MemSetToZero(stream);
            return;
        }

        var cells = geometry.ChunkCells;
        var cursors = plan.ChunkCursors.View.SubView(0, cells);
        var scratch = plan.ChunkScratch.View.SubView(0, cells);
        var args = new Args(plan.TopkIndex.View, plan.CuSeqlensQ.View, plan.CuBlocks.View, cursors, scratch,
                            plan.SegmentRows.View, geometry.Batch, geometry.TotalQ, geometry.Heads, geometry.TopK,
                            geometry.ChunkRows, geometry.ChunksPerSequence);

        scratch.MemSetToZero(stream);
        int entries = geometry.TotalQ * geometry.Heads;
        cache.Get<Args>(typeof(KeyBlockIndex), nameof(CountKernel))
             .Launch(stream, new KernelConfig((entries + Threads - 1) / Threads, Threads), args);
        ScanFor(cache.Accelerator)(stream, scratch, cursors, plan.ScanTemp.View);
        var table = new TableArgs(cursors, scratch, plan.SegmentOffsets.View, plan.SegmentCounts.View,
                                  geometry.Segments, geometry.ChunksPerSequence);
        cache.Get<TableArgs>(typeof(KeyBlockIndex), nameof(SegmentTableKernel))
             .Launch(stream, new KernelConfig(geometry.Segments / Threads + 1, Threads), table);

        // The counts are consumed; the same cells now hold the scatter's step masks, which start empty.
        scratch.MemSetToZero(stream);
        int tasks = geometry.Batch * geometry.Heads * geometry.ChunksPerSequence;
        cache.Get<Args>(typeof(KeyBlockIndex), nameof(ScatterKernel))
             .Launch(stream, new KernelConfig(tasks, ScatterThreads), args);
    }

    /// <summary>Temporary storage (ints) the reindex scan needs on <paramref name="accelerator"/> for
    /// <paramref name="cells"/> elements.</summary>
    internal static long ScanTempElements(Accelerator accelerator, long cells)
        => accelerator.ComputeScanTempStorageSize<int>(cells);

    /// <summary>The exclusive int32 scan (ILGPU.Algorithms), created once per accelerator.</summary>
    private static Scan<int, Stride1D.Dense, Stride1D.Dense> ScanFor(Accelerator accelerator)
        => Scans.GetValue(accelerator,
            static a => a.CreateScan<int, Stride1D.Dense, Stride1D.Dense, AddInt32>(ScanKind.Exclusive));
}
