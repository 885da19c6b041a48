using ILGPU;
using ILGPU.Algorithms;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// MoBA forward, gather-and-densify (DESIGN.md §3 steps 4–5, §4.2), organised per key block: a CTA
/// owns one segment — a (key block, query head) pair — or one of its <see cref="MobaForwardArgs.Parts"/>
/// (every Parts-th query tile, so that small head chunks still fill the GPU), keeps the block's keys
/// (and values) in shared memory and streams dense tiles of the query rows that chose the block,
/// gathered from the routing plan's list. Two-level tiling: the logical MoBA block of B keys is walked
/// in physical tiles of <see cref="KeyTile"/> keys. Every block is read once per part for all of the
/// part's queries, never once per query tile. One softmax over the union of a row's blocks is kept
/// exact by two passes:
/// <see cref="StatsKernel{TElem, THeadDim}"/> writes each (row, slot)'s max and sum-exp,
/// <see cref="MobaLseMerge"/> merges them into the row's LSE, and
/// <see cref="OutputKernel{TElem, THeadDim}"/> adds the already normalised contribution
/// 2^(s·scale·log2 e − LSE·log2 e)·V of every (row, block) into an fp32 accumulator with atomics.
/// </summary>
internal static partial class MobaForward
{
    /// <summary>Warps per CTA; each owns one 16-row MMA slab of the query tile.</summary>
    public const int Warps = 4;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>Gathered query rows per tile: one 16-row slab per warp.</summary>
    public const int BlockM = Warps * 16;

    /// <summary>Physical key tile: one 16×64 fp32 score tile (32 registers) per warp.</summary>
    public const int KeyTile = 64;

    /// <summary>
    /// Keys of a block staged in shared memory at once. Blocks up to this size (B = 128, the common
    /// choice, included) are loaded once per CTA; larger ones are streamed per query tile.
    /// </summary>
    public const int ResidentKeys = 128;

    /// <summary>Words of the per-row table: first q chunk, last visible key, LSE·log2 e, statistics slot.</summary>
    public const int RowTableWords = 4 * BlockM;

    /// <summary>
    /// Pass 1: per gathered query row, the maximum <c>m</c> of <c>x = s·scale·log2 e</c> over this block's
    /// visible keys and <c>l = Σ 2^(x − m)</c>, written to the row's slot that selected the block
    /// (<c>m = −∞</c>, <c>l = 0</c> when the row sees no key of the block).
    /// </summary>
    internal static void StatsKernel<TElem, THeadDim>(MobaForwardArgs args)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        int chunksPerRow = default(THeadDim).Value / Chunk16.Elements;
        var work = new SegmentPart(args, Grid.IdxX);
        if (work.IsEmpty) return;
        var block = work.Block;
        int head = work.Head, kvHead = work.KvHead, segment = work.Segment, count = work.Count;

        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var layout = new MobaForwardLayout(chunksPerRow, withValues: false);
        var rows = layout.Rows(words);
        var queries = new TileA(layout.Queries);
        var keys = new TransposedTileB(layout.Keys);
        int thread = Group.IdxX, m0 = Warp.WarpIdx * 16, rowLo = m0 + (Warp.LaneIdx >> 2), rowHi = rowLo + 8;
        bool resident = block.KeyEnd - block.KeyStart <= ResidentKeys;
        if (resident) LoadKeys(args, layout, shared, block, kvHead, block.KeyStart, thread);

        for (int tileStart = work.FirstTile; tileStart < count; tileStart += work.TileStride)
        {
            Group.Barrier();
            if (thread < BlockM)
            {
                int localRow = tileStart + thread < count
                    ? args.Routing.SegmentRows[args.Routing.SegmentOffsets[segment] + tileStart + thread]
                    : -1;
                LoadRow(rows, thread, localRow, block, head, args, chunksPerRow, statsSlot: true);
            }
            Group.Barrier();
            TileGather.GlobalToShared(args.Q, new TableRows(rows.FirstChunk), shared, layout.Queries, BlockM, thread, Threads);
            Group.Barrier();

            int lastLo = rows.LastKey[rowLo], lastHi = rows.LastKey[rowHi], tileLast = rows.LastKey[0];
            var queryRows = QueryFragments.Load<THeadDim>(words, queries, m0);
            var softmax = OnlineSoftmax.Empty;
            // Pass 1 has no output to rescale: this tile only receives OnlineSoftmax's rescaling, which
            // nothing reads, so the compiler removes it.
            var noOutput = default(Acc16x32F32);
            for (int chunkStart = block.KeyStart; chunkStart < block.KeyEnd; chunkStart += ResidentKeys)
            {
                if (!resident)
                {
                    Group.Barrier();
                    LoadKeys(args, layout, shared, block, kvHead, chunkStart, thread);
                    Group.Barrier();
                }
                int chunkEnd = IntrinsicMath.Min(chunkStart + ResidentKeys, block.KeyEnd);
                for (int tileKey = chunkStart; tileKey < chunkEnd; tileKey += KeyTile)
                {
                    var scores = default(Acc16x64F32);
                    queryRows.Scores<TElem, THeadDim>(ref scores, words, keys, tileKey - chunkStart);
                    if (tileKey + KeyTile - 1 > tileLast) scores.MaskColumns(tileKey, lastLo, lastHi);
                    softmax.Rescale(ref scores, ref noOutput, args.ScaleLog2, words);
                }
            }

            // Every lane joins the quad sums; lane t = 0 of each quad writes its two rows.
            float sumLo = softmax.SumLo, sumHi = softmax.SumHi;
            QuadReduce.Sum(ref sumLo, ref sumHi, words);
            if ((Warp.LaneIdx & 3) == 0)
            {
                WriteStats(args.SlotStats, rows.StatsSlot[rowLo], softmax.MaxLo * args.ScaleLog2, sumLo);
                WriteStats(args.SlotStats, rows.StatsSlot[rowHi], softmax.MaxHi * args.ScaleLog2, sumHi);
            }
        }
    }

    /// <summary>
    /// Pass 2: with the final LSE of every row known, adds <c>P·V</c> with
    /// <c>P = 2^(s·scale·log2 e − LSE·log2 e)</c> — this block's share of the normalised output — into the
    /// fp32 accumulator <c>[totalQ, chunk heads, d]</c> with one vector reduction per element pair and (row, block).
    /// Software-pipelined like the backward: the next query tile's row indices are loaded when the
    /// current tile starts, its q chunks and LSEs after the first key tile's scores, and both are
    /// stored into shared memory only when the CTA is done with the current tile.
    /// </summary>
    internal static void OutputKernel<TElem, THeadDim>(MobaForwardArgs args)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        int headDim = default(THeadDim).Value, chunksPerRow = headDim / Chunk16.Elements;
        var work = new SegmentPart(args, Grid.IdxX);
        if (work.IsEmpty) return;
        var block = work.Block;
        int head = work.Head, kvHead = work.KvHead, segment = work.Segment, count = work.Count;

        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var layout = new MobaForwardLayout(chunksPerRow, withValues: true);
        var rows = layout.Rows(words);
        var queries = new TileA(layout.Queries);
        var keys = new TransposedTileB(layout.Keys);
        var values = new TileB(layout.Values);
        int thread = Group.IdxX, m0 = Warp.WarpIdx * 16, rowLo = m0 + (Warp.LaneIdx >> 2), rowHi = rowLo + 8;
        bool resident = block.KeyEnd - block.KeyStart <= ResidentKeys;
        if (resident) LoadKeysAndValues(args, layout, shared, block, kvHead, block.KeyStart, thread);

        // Prologue: the first tile's rows and q chunks.
        int segmentFirst = args.Routing.SegmentOffsets[segment];
        var staged = PendingQueryRows.Locate(args, segmentFirst, count, work.FirstTile, chunksPerRow, thread)
            .Issue(args, block, head, chunksPerRow, thread);

        for (int tileStart = work.FirstTile; tileStart < count; tileStart += work.TileStride)
        {
            // The previous tile's readers are done: this tile's loads go to shared memory.
            Group.Barrier();
            staged.Store(shared, layout, rows, thread);
            Group.Barrier();
            var next = PendingQueryRows.Locate(args, segmentFirst, count, tileStart + work.TileStride, chunksPerRow, thread);
            bool nextIssued = false;

            int lastLo = rows.LastKey[rowLo], lastHi = rows.LastKey[rowHi], tileLast = rows.LastKey[0];
            float lseLo = rows.LseLog2[rowLo], lseHi = rows.LseLog2[rowHi];
            var queryRows = QueryFragments.Load<THeadDim>(words, queries, m0);
            var outLeft = default(Acc16x64F32);
            var outRight = default(Acc16x64F32);
            for (int chunkStart = block.KeyStart; chunkStart < block.KeyEnd; chunkStart += ResidentKeys)
            {
                if (!resident)
                {
                    Group.Barrier();
                    LoadKeysAndValues(args, layout, shared, block, kvHead, chunkStart, thread);
                    Group.Barrier();
                }
                int chunkEnd = IntrinsicMath.Min(chunkStart + ResidentKeys, block.KeyEnd);
                for (int tileKey = chunkStart; tileKey < chunkEnd; tileKey += KeyTile)
                {
                    var scores = default(Acc16x64F32);
                    queryRows.Scores<TElem, THeadDim>(ref scores, words, keys, tileKey - chunkStart);
                    if (!nextIssued)
                    {
                        // The next tile's row indices have arrived by now: issue its dependent loads, which
                        // then have the rest of this tile's MMAs to land.
                        staged = next.Issue(args, block, head, chunksPerRow, thread);
                        nextIssued = true;
                    }
                    if (tileKey + KeyTile - 1 > tileLast) scores.MaskColumns(tileKey, lastLo, lastHi);
                    // Padding rows carry LSE +∞, so their probabilities are exactly 0.
                    scores.Exp2Rows(args.ScaleLog2, lseLo, lseHi, out _, out _);
                    scores.ToFragA<TElem>(out FragA16x64 probabilities);
                    outLeft.Mma<TElem, TileB>(probabilities, words, values, 0, tileKey - chunkStart);
                    if (headDim == 128)
                        outRight.Mma<TElem, TileB>(probabilities, words, values, 64, tileKey - chunkStart);
                }
            }

            if (!nextIssued) staged = next.Issue(args, block, head, chunksPerRow, thread);

            long outLo = args.Chunk.AccumulatorElement(rows.FirstChunk[rowLo], chunksPerRow, args.Heads, 0);
            long outHi = args.Chunk.AccumulatorElement(rows.FirstChunk[rowHi], chunksPerRow, args.Heads, 0);
            outLeft.AtomicAddInterleaved(args.OutputAccumulator, outLo, outHi);
            if (headDim == 128)
                outRight.AtomicAddInterleaved(args.OutputAccumulator, outLo < 0 ? -1 : outLo + 64, outHi < 0 ? -1 : outHi + 64);
        }
    }

    /// <summary>
    /// Fills row <paramref name="row"/> of the table for sequence-local query row <paramref name="localRow"/>
    /// (−1: padding). Pass 1 looks up the slot through which the row selected this block; pass 2 reads
    /// the row's merged LSE.
    /// </summary>
    private static void LoadRow(in MobaRowTable rows, int row, int localRow, in MobaKeyBlock block, int head,
        in MobaForwardArgs args, int chunksPerRow, bool statsSlot)
    {
        if (localRow < 0)
        {
            rows.SetPadding(row);
            return;
        }
        int queryRow = block.Sequence.QStart + localRow;
        int pair = queryRow * args.Heads + head;
        rows.FirstChunk[row] = pair * chunksPerRow;
        rows.LastKey[row] = block.LastVisibleKey(localRow, args.Causal != 0);
        if (statsSlot)
        {
            // Four independent loads per step: the lookup sits on the tile's critical path.
            int first = pair * args.TopK, found = -1;
            for (int slot = 0; slot < args.TopK; slot += 4)
            {
                int b0 = args.Routing.TopkIndex[first + slot];
                int b1 = slot + 1 < args.TopK ? args.Routing.TopkIndex[first + slot + 1] : -1;
                int b2 = slot + 2 < args.TopK ? args.Routing.TopkIndex[first + slot + 2] : -1;
                int b3 = slot + 3 < args.TopK ? args.Routing.TopkIndex[first + slot + 3] : -1;
                if (b0 == block.LocalBlock) found = first + slot;
                if (b1 == block.LocalBlock) found = first + slot + 1;
                if (b2 == block.LocalBlock) found = first + slot + 2;
                if (b3 == block.LocalBlock) found = first + slot + 3;
            }
            rows.StatsSlot[row] = found < 0 ? -1 : args.Chunk.Pair(queryRow, head) * args.TopK + found - first;
        }
        else
        {
            rows.LseLog2[row] = args.Lse[head * args.TotalQ + queryRow] * MobaScale.Log2E;
        }
    }

    /// <summary>Stages keys <c>[chunkStart, min(chunkStart + ResidentKeys, block end))</c>, zero-filled up to whole key tiles.</summary>
    private static void LoadKeys(in MobaForwardArgs args, in MobaForwardLayout layout, ArrayView<Chunk16> shared,
        in MobaKeyBlock block, int kvHead, int chunkStart, int thread)
    {
        int valid = IntrinsicMath.Min(ResidentKeys, block.KeyEnd - chunkStart);
        int rows = (valid + KeyTile - 1) / KeyTile * KeyTile;
        long rowStride = (long)args.HeadsKv * layout.ChunksPerRow;
        long first = ((long)(block.Sequence.KStart + chunkStart) * args.HeadsKv + kvHead) * layout.ChunksPerRow;
        TileGather.GlobalToShared(args.K, new StridedRows(first, rowStride, valid), shared, layout.Keys, rows, thread, Threads);
    }

    /// <summary>As <see cref="LoadKeys"/>, plus the same rows of V (zero rows keep padded products finite).</summary>
    private static void LoadKeysAndValues(in MobaForwardArgs args, in MobaForwardLayout layout,
        ArrayView<Chunk16> shared, in MobaKeyBlock block, int kvHead, int chunkStart, int thread)
    {
        int valid = IntrinsicMath.Min(ResidentKeys, block.KeyEnd - chunkStart);
        int rows = (valid + KeyTile - 1) / KeyTile * KeyTile;
        long rowStride = (long)args.HeadsKv * layout.ChunksPerRow;
        long first = ((long)(block.Sequence.KStart + chunkStart) * args.HeadsKv + kvHead) * layout.ChunksPerRow;
        var keyRows = new StridedRows(first, rowStride, valid);
        TileGather.GlobalToSharedPair(args.K, args.V, keyRows, shared, layout.Keys, layout.Values, rows, thread, Threads);
    }

    private static void WriteStats(ArrayView<float> slotStats, int slot, float maxLog2, float sum)
    {
        if (slot < 0) return;
        slotStats[2L * slot] = sum == 0f ? float.NegativeInfinity : maxLog2;
        slotStats[2L * slot + 1] = sum;
    }
}
