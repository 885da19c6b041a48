using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

internal static partial class MobaForward
{
    /// <summary>
    /// The sequence-local rows of the next query tile that one thread needs, loaded one tile ahead
    /// (software pipelining: pass 2 runs only two CTAs per SM, too few to hide each tile's gather):
    /// <see cref="TableRow"/> for the row-table entry of thread <c>row</c> &lt; BlockM, and the rows of
    /// the q chunks <c>thread + j·Threads</c> it stages (j &lt; 8: a 64 × 128 tile is 1024 chunks over 128 threads). Only the index loads are issued here; what
    /// depends on them is formed in <see cref="Issue"/>, after some of the current tile's MMAs.
    /// </summary>
    private struct PendingQueryRows
    {
        public int TableRow;
        public int Row0;
        public int Row1;
        public int Row2;
        public int Row3;
        public int Row4;
        public int Row5;
        public int Row6;
        public int Row7;

        /// <summary>Issues the row-index loads of the tile starting at <paramref name="tileStart"/> (−1 past the segment).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static PendingQueryRows Locate(in MobaForwardArgs args, int segmentFirst, int count, int tileStart,
            int chunksPerRow, int thread) => new()
        {
            TableRow = RowAt(args, segmentFirst, count, tileStart, thread),
            Row0 = RowAt(args, segmentFirst, count, tileStart, thread / chunksPerRow),
            Row1 = RowAt(args, segmentFirst, count, tileStart, (thread + Threads) / chunksPerRow),
            Row2 = RowAt(args, segmentFirst, count, tileStart, (thread + 2 * Threads) / chunksPerRow),
            Row3 = RowAt(args, segmentFirst, count, tileStart, (thread + 3 * Threads) / chunksPerRow),
            Row4 = NeedsHighStage(chunksPerRow) ? RowAt(args, segmentFirst, count, tileStart, (thread + 4 * Threads) / chunksPerRow) : -1,
            Row5 = NeedsHighStage(chunksPerRow) ? RowAt(args, segmentFirst, count, tileStart, (thread + 5 * Threads) / chunksPerRow) : -1,
            Row6 = NeedsHighStage(chunksPerRow) ? RowAt(args, segmentFirst, count, tileStart, (thread + 6 * Threads) / chunksPerRow) : -1,
            Row7 = NeedsHighStage(chunksPerRow) ? RowAt(args, segmentFirst, count, tileStart, (thread + 7 * Threads) / chunksPerRow) : -1,
        };

        /// <summary>
        /// Whether the tile has chunks past the first <see cref="TileStage"/> (d = 128; not d = 64). A
        /// constant once the head dimension is specialised, so a d = 64 kernel holds no second stage.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool NeedsHighStage(int chunksPerRow) => BlockM * chunksPerRow > TileStage.ChunksPerThread * Threads;

        /// <summary>Issues the loads that need the row indices: the table entry's LSE and the q chunks.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly StagedQueryTile Issue(in MobaForwardArgs args, in MobaKeyBlock block, int head, int chunksPerRow,
            int thread)
        {
            int queryStart = block.Sequence.QStart;
            var low = new StageAddresses
            {
                A0 = MobaGatheredChunk.Address(Row0, queryStart, args.Heads, head, chunksPerRow, thread),
                A1 = MobaGatheredChunk.Address(Row1, queryStart, args.Heads, head, chunksPerRow, thread + Threads),
                A2 = MobaGatheredChunk.Address(Row2, queryStart, args.Heads, head, chunksPerRow, thread + 2 * Threads),
                A3 = MobaGatheredChunk.Address(Row3, queryStart, args.Heads, head, chunksPerRow, thread + 3 * Threads),
            };
            var high = new StageAddresses
            {
                A0 = MobaGatheredChunk.Address(Row4, queryStart, args.Heads, head, chunksPerRow, thread + 4 * Threads),
                A1 = MobaGatheredChunk.Address(Row5, queryStart, args.Heads, head, chunksPerRow, thread + 5 * Threads),
                A2 = MobaGatheredChunk.Address(Row6, queryStart, args.Heads, head, chunksPerRow, thread + 6 * Threads),
                A3 = MobaGatheredChunk.Address(Row7, queryStart, args.Heads, head, chunksPerRow, thread + 7 * Threads),
            };
            var staged = new StagedQueryTile { Low = TileStage.Load(args.Q, low) };
            if (NeedsHighStage(chunksPerRow)) staged.High = TileStage.Load(args.Q, high);
            if (TableRow < 0)
            {
                staged.FirstChunk = -1;
                staged.LastKey = -1;
                staged.LseLog2 = float.PositiveInfinity;
            }
            else
            {
                int queryRow = queryStart + TableRow;
                staged.FirstChunk = (queryRow * args.Heads + head) * chunksPerRow;
                staged.LastKey = block.LastVisibleKey(TableRow, args.Causal != 0);
                staged.LseLog2 = args.Lse[head * args.TotalQ + queryRow] * MobaScale.Log2E;
            }
            return staged;
        }

        /// <summary>Sequence-local row of tile row <paramref name="row"/>; −1 past the tile or the segment.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int RowAt(in MobaForwardArgs args, int segmentFirst, int count, int tileStart, int row) =>
            row < BlockM && tileStart + row < count ? args.Routing.SegmentRows[segmentFirst + tileStart + row] : -1;
    }

    /// <summary>
    /// A gathered query tile in flight: this thread's q chunks and, for thread <c>row</c> &lt; BlockM, its
    /// row-table entry. Nothing waits for the loads until <see cref="Store"/>, after the current tile.
    /// </summary>
    private struct StagedQueryTile
    {
        public TileStage Low;
        public TileStage High;
        public int FirstChunk;
        public int LastKey;
        public float LseLog2;

        /// <summary>Writes the tile into shared memory (the CTA must be done with the previous one).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(ArrayView<Chunk16> shared, in MobaForwardLayout layout, in MobaRowTable rows,
            int thread)
        {
            if (thread < BlockM)
            {
                rows.FirstChunk[thread] = FirstChunk;
                rows.LastKey[thread] = LastKey;
                rows.LseLog2[thread] = LseLog2;
            }
            Low.Store(shared, layout.Queries, BlockM, thread, Threads);
            if (PendingQueryRows.NeedsHighStage(layout.ChunksPerRow))
                High.Store(shared, layout.Queries, BlockM, thread + TileStage.ChunksPerThread * Threads, Threads);
        }
    }
}
