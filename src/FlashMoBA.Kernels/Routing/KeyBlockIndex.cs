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

    /// <summary>Everything the count and scatter kernels read.</summary>
    internal readonly struct Args
    {
        public Args(ArrayView<int> topkIndex, ArrayView<int> cuSeqlensQ, ArrayView<int> cuBlocks,
                    ArrayView<int> chunkCursors, ArrayView<int> chunkScratch, ArrayView<int> segmentRows,
                    int batch, int heads, int topK, int chunkRows, int chunksPerSequence)
        {
            TopkIndex = topkIndex;
            CuSeqlensQ = cuSeqlensQ;
            CuBlocks = cuBlocks;
            ChunkCursors = chunkCursors;
            ChunkScratch = chunkScratch;
            SegmentRows = segmentRows;
            Batch = batch;
            Heads = heads;
            TopK = topK;
            ChunkRows = chunkRows;
            ChunksPerSequence = chunksPerSequence;
        }

        /// <summary>Selections <c>[totalQ, Heads, TopK]</c>, sequence-local block indices, −1 unused.</summary>
        public ArrayView<int> TopkIndex { get; }

        /// <summary>Query prefix sums <c>[Batch+1]</c>.</summary>
        public ArrayView<int> CuSeqlensQ { get; }

        /// <summary>Block prefix sums <c>[Batch+1]</c>.</summary>
        public ArrayView<int> CuBlocks { get; }

        /// <summary>Per (segment, chunk) cell <c>[Segments × ChunksPerSequence]</c>: the exclusive scan of
        /// the counts, i.e. where the chunk's rows start in <see cref="SegmentRows"/>; the scatter
        /// advances it as its write cursor.</summary>
        public ArrayView<int> ChunkCursors { get; }

        /// <summary>Per (segment, chunk) cell: the selection count in phase 1; in phase 4 the lane mask
        /// of the current 32-row step (zero between steps).</summary>
        public ArrayView<int> ChunkScratch { get; }

        /// <summary>Output rows, grouped by segment.</summary>
        public ArrayView<int> SegmentRows { get; }

        /// <summary>Number of sequences.</summary>
        public int Batch { get; }

        /// <summary>Query heads.</summary>
        public int Heads { get; }

        /// <summary>Slots per row.</summary>
        public int TopK { get; }

        /// <summary>Rows per chunk (multiple of 32).</summary>
        public int ChunkRows { get; }

        /// <summary>Chunks per sequence (cells per segment).</summary>
        public int ChunksPerSequence { get; }

        /// <summary>Cell of (sequence-local block, head, chunk) of <paramref name="sequence"/>.</summary>
        public int Cell(int sequence, int block, int head, int chunk)
            => ((CuBlocks[sequence] + block) * Heads + head) * ChunksPerSequence + chunk;
    }

    /// <summary>
    /// Phase 1: one thread per (query row, head) adds its selections to the counts of its chunk.
    /// Integer atomics, so the totals do not depend on ordering.
    /// </summary>
    internal static void CountKernel(Index1D index, Args args)
    {
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
    internal static void SegmentTableKernel(Index1D segment, ArrayView<int> scannedCells, ArrayView<int> lastCount,
                                            ArrayView<int> segmentOffsets, ArrayView<int> segmentCounts,
                                            int segments, int chunksPerSequence)
    {
        int total = scannedCells[scannedCells.IntLength - 1] + lastCount[0];
        int start = segment < segments ? scannedCells[segment * chunksPerSequence] : total;
        segmentOffsets[segment] = start;
        if (segment < segments)
        {
            int end = segment + 1 < segments ? scannedCells[(segment + 1) * chunksPerSequence] : total;
            segmentCounts[segment] = end - start;
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
                    int rank = IntrinsicMath.PopCount(mask & ~lowerLanes) - 1;
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
    internal static void Launch(RoutingKernels kernels, AcceleratorStream stream, RoutingPlan plan)
    {
        var geometry = plan.Geometry;
        if (geometry.Segments == 0)
        {
            plan.SegmentOffsets.View.MemSetToZero(stream);
            return;
        }

        var cursors = plan.ChunkCursors.View;
        var scratch = plan.ChunkScratch.View;
        var args = new Args(plan.TopkIndex.View, plan.CuSeqlensQ.View, plan.CuBlocks.View, cursors, scratch,
                            plan.SegmentRows.View, geometry.Batch, geometry.Heads, geometry.TopK,
                            geometry.ChunkRows, geometry.ChunksPerSequence);

        scratch.MemSetToZero(stream);
        if (geometry.TotalQ > 0)
            kernels.ReindexCount(stream, geometry.TotalQ * geometry.Heads, args);
        kernels.ExclusiveScan(stream, scratch, cursors, plan.ScanTemp.View);
        kernels.ReindexSegmentTable(stream, geometry.Segments + 1, cursors, scratch.SubView(scratch.Length - 1, 1),
                                    plan.SegmentOffsets.View, plan.SegmentCounts.View, geometry.Segments,
                                    geometry.ChunksPerSequence);

        // The counts are consumed; the same cells now hold the scatter's step masks, which start empty.
        scratch.MemSetToZero(stream);
        int tasks = geometry.Batch * geometry.Heads * geometry.ChunksPerSequence;
        kernels.ReindexScatter(stream, new KernelConfig(tasks, ScatterThreads), args);
    }

    /// <summary>Loads the count kernel.</summary>
    internal static Action<AcceleratorStream, Index1D, Args> LoadCount(Accelerator accelerator)
        => accelerator.LoadAutoGroupedKernel<Index1D, Args>(CountKernel);

    /// <summary>Loads the segment-table kernel.</summary>
    internal static Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, int, int>
        LoadSegmentTable(Accelerator accelerator)
        => accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, int, int>(
            SegmentTableKernel);

    /// <summary>Loads the scatter kernel.</summary>
    internal static Action<AcceleratorStream, KernelConfig, Args> LoadScatter(Accelerator accelerator)
        => accelerator.LoadKernel<Args>(ScatterKernel);

    /// <summary>Creates the exclusive int32 scan over the count matrix.</summary>
    internal static Scan<int, Stride1D.Dense, Stride1D.Dense> CreateScan(Accelerator accelerator)
        => accelerator.CreateScan<int, Stride1D.Dense, Stride1D.Dense, AddInt32>(ScanKind.Exclusive);
}
