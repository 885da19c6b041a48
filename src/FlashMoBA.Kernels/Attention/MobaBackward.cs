using ILGPU;
using ILGPU.Algorithms;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// MoBA backward main kernel (DESIGN.md §3 step 6, §4.3). One CTA owns one physical tile of
/// <see cref="KeyTile"/> keys of a MoBA key block for one KV head, and walks — for every query head
/// of the GQA group — the dense tiles of the query rows that chose the block, gathered from the
/// routing plan. Per tile it recomputes P = 2^(s·scale·log2 e − LSE·log2 e) from the forward's LSE,
/// forms dS = P∘(dP − D) with dP = dO·Vᵀ, accumulates dV += Pᵀ·dO and dK += dSᵀ·Q in registers and
/// adds dQ = dS·K to an fp32 buffer with 16-byte reductions (<see cref="InterleavedColumns"/> order, scaled when
/// rounded). dK and dV are written once at the end, with no
/// atomics: the CTA owns its keys for the whole group, so the group's sum is complete there.
/// At ~170 registers × 256 threads one CTA fills an SM, so the kernel is software-pipelined: the next
/// tile's row list, LSE, D, q and dO are loaded into registers while the current tile's MMAs run and
/// stored into shared memory only once the CTA is done with the current tile.
/// </summary>
internal static partial class MobaBackward
{
    /// <summary>Warps per CTA: 4 row slabs × 2 column halves.</summary>
    public const int Warps = 8;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>16-row slabs per tile; warps w and w + 4 share slab w.</summary>
    public const int RowSlabs = 4;

    /// <summary>Gathered query rows per tile.</summary>
    public const int BlockM = RowSlabs * 16;

    /// <summary>
    /// Keys per CTA. With 8 warps each warp keeps 16 keys × d/2 of dK and dV (64 registers at d = 128);
    /// a whole 128-key block per CTA would need twice that and spill.
    /// </summary>
    public const int KeyTile = 64;

    /// <summary>
    /// One CTA per (key block in launch order, KV head of the chunk, key tile of the block):
    /// <c>Grid.IdxX = (order · KvHeadCount + kvHead − FirstKvHead) · tilesPerBlock + tile</c>.
    /// </summary>
    internal static void Kernel<TElem, THeadDim>(MobaBackwardArgs args)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        int headDim = default(THeadDim).Value, chunksPerRow = headDim / Chunk16.Elements;
        int tilesPerBlock = (args.BlockSize + KeyTile - 1) / KeyTile;
        int keyTile = Grid.IdxX % tilesPerBlock;
        int kvHead = args.FirstKvHead + Grid.IdxX / tilesPerBlock % args.KvHeadCount;
        int order = Grid.IdxX / (tilesPerBlock * args.KvHeadCount);
        var block = MobaKeyBlock.Load(args.Routing, args.Routing.LaunchOrder[order], args.BlockSize);
        int keyStart = block.KeyStart + keyTile * KeyTile;
        if (keyStart >= block.KeyEnd) return;
        int keyEnd = IntrinsicMath.Min(keyStart + KeyTile, block.KeyEnd);

        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var layout = new MobaBackwardLayout(chunksPerRow);
        var rows = layout.Rows(words);
        int thread = Group.IdxX, warp = Warp.WarpIdx;
        int m0 = (warp % RowSlabs) * 16;
        int scoreColumn0 = (warp / RowSlabs) * (KeyTile / 2);
        int dim0 = (warp / RowSlabs) * (headDim / 2);
        int rowLo = m0 + (Warp.LaneIdx >> 2), rowHi = rowLo + 8;

        long kvRowStride = (long)args.HeadsKv * chunksPerRow;
        long kvFirst = ((long)(block.Sequence.KStart + keyStart) * args.HeadsKv + kvHead) * chunksPerRow;
        TileGather.GlobalToSharedPair(args.K, args.V, new StridedRows(kvFirst, kvRowStride, keyEnd - keyStart), shared,
            layout.Keys, layout.Values, KeyTile, thread, Threads);

        var keysT = new TransposedTileB(layout.Keys);
        var valuesT = new TransposedTileB(layout.Values);
        var keysB = new TileB(layout.Keys);
        var queries = new TileA(layout.Queries);
        var queriesB = new TileB(layout.Queries);
        var outputGrads = new TileA(layout.OutputGrads);
        var outputGradsB = new TileB(layout.OutputGrads);
        var probabilitiesT = new TransposedTileA(layout.Probabilities);
        var scoreGrads = new TileA(layout.ScoreGrads);
        var scoreGradsT = new TransposedTileA(layout.ScoreGrads);
        var dKLeft = default(Acc16x32F32);
        var dKRight = default(Acc16x32F32);
        var dVLeft = default(Acc16x32F32);
        var dVRight = default(Acc16x32F32);

        // Prologue: the first tile's loads.
        var cursor = MobaSegmentCursor.First(args, block, kvHead);
        var pendingRow = PendingRow.Locate(args, cursor, thread);
        var pendingChunks = PendingChunks.Locate(args, cursor, chunksPerRow, thread);
        pendingRow = pendingRow.Complete(args, block, keyEnd, cursor, chunksPerRow);
        var at = pendingChunks.Addresses(block.Sequence.QStart, args.Heads, cursor.Head, chunksPerRow, thread);
        var pendingQueries = TileStage.Load(args.Q, at);
        var pendingGrads = TileStage.Load(args.DOut, at);

        while (cursor.Valid)
        {
            // The previous tile's readers are done: this tile's loads go to shared memory.
            Group.Barrier();
            if (thread < BlockM) pendingRow.Store(rows, thread);
            pendingQueries.Store(shared, layout.Queries, BlockM, thread, Threads);
            pendingGrads.Store(shared, layout.OutputGrads, BlockM, thread, Threads);
            var next = cursor.Next(args, block, kvHead);
            pendingRow = PendingRow.Locate(args, next, thread);
            pendingChunks = PendingChunks.Locate(args, next, chunksPerRow, thread);
            Group.Barrier();

            var scores = default(Acc16x32F32);
            QueryFragments.Load<THeadDim>(words, queries, m0).Scores<TElem, THeadDim>(ref scores, words, keysT, scoreColumn0);
            var probabilityGrads = default(Acc16x32F32);
            QueryFragments.Load<THeadDim>(words, outputGrads, m0)
                .Scores<TElem, THeadDim>(ref probabilityGrads, words, valuesT, scoreColumn0);

            // The next tile's row indices have arrived by now: issue its dependent loads.
            pendingRow = pendingRow.Complete(args, block, keyEnd, next, chunksPerRow);
            at = pendingChunks.Addresses(block.Sequence.QStart, args.Heads, next.Head, chunksPerRow, thread);
            pendingQueries = TileStage.Load(args.Q, at);
            pendingGrads = TileStage.Load(args.DOut, at);

            if (keyStart + KeyTile - 1 > rows.LastKey[0])
                scores.MaskColumns(keyStart + scoreColumn0, rows.LastKey[rowLo], rows.LastKey[rowHi]);
            scores.Exp2Rows(args.ScaleLog2, rows.LseLog2[rowLo], rows.LseLog2[rowHi], out _, out _);
            scores.StoreShared<TElem>(words, layout.Probabilities, m0, scoreColumn0);
            scores.SoftmaxGrad(probabilityGrads, rows.Delta[rowLo], rows.Delta[rowHi]);
            scores.StoreShared<TElem>(words, layout.ScoreGrads, m0, scoreColumn0);
            Group.Barrier();

            var transposed = default(FragA16x64);
            transposed.Load(words, probabilitiesT, m0, 0);
            dVLeft.Mma<TElem, TileB>(transposed, words, outputGradsB, dim0, 0);
            if (headDim == 128) dVRight.Mma<TElem, TileB>(transposed, words, outputGradsB, dim0 + 32, 0);
            transposed.Load(words, scoreGradsT, m0, 0);
            dKLeft.Mma<TElem, TileB>(transposed, words, queriesB, dim0, 0);
            if (headDim == 128) dKRight.Mma<TElem, TileB>(transposed, words, queriesB, dim0 + 32, 0);

            var rowGrads = default(FragA16x64);
            rowGrads.Load(words, scoreGrads, m0, 0);
            long dqLo = args.Chunk.AccumulatorElement(rows.FirstChunk[rowLo], chunksPerRow, args.Heads, dim0);
            long dqHi = args.Chunk.AccumulatorElement(rows.FirstChunk[rowHi], chunksPerRow, args.Heads, dim0);
            var dQ = default(Acc16x32F32);
            dQ.Mma<TElem, TileB>(rowGrads, words, keysB, dim0, 0);
            dQ.AtomicAddInterleaved(args.DQAccumulator, dqLo, dqHi);
            if (headDim == 128)
            {
                dQ = default;
                dQ.Mma<TElem, TileB>(rowGrads, words, keysB, dim0 + 32, 0);
                dQ.AtomicAddInterleaved(args.DQAccumulator, dqLo < 0 ? -1 : dqLo + 32, dqHi < 0 ? -1 : dqHi + 32);
            }
            cursor = next;
        }

        long pairLo = KeyPair(args, block, kvHead, keyStart + rowLo, keyEnd, headDim, dim0);
        long pairHi = KeyPair(args, block, kvHead, keyStart + rowHi, keyEnd, headDim, dim0);
        dKLeft.StoreGlobal<TElem>(args.DK, pairLo, pairHi, args.Scale);
        dVLeft.StoreGlobal<TElem>(args.DV, pairLo, pairHi, 1f);
        if (headDim == 128)
        {
            long rightLo = pairLo < 0 ? -1 : pairLo + 16, rightHi = pairHi < 0 ? -1 : pairHi + 16;
            dKRight.StoreGlobal<TElem>(args.DK, rightLo, rightHi, args.Scale);
            dVRight.StoreGlobal<TElem>(args.DV, rightLo, rightHi, 1f);
        }
    }

    /// <summary>
    /// The sequence-local rows of the (up to four) q/dO chunks this thread stages for the next tile:
    /// chunk <c>thread + j·Threads</c> is tile row <c>(thread + j·Threads) / chunksPerRow</c>. Only the
    /// row indices are loaded here; the addresses that depend on them are formed later, so no
    /// instruction waits for these loads before the MMAs in between.
    /// </summary>
    private struct PendingChunks
    {
        public int Row0;
        public int Row1;
        public int Row2;
        public int Row3;

        /// <summary>Issues the row-index loads of the cursor's tile (−1 for padding, past the tile or the walk).</summary>
        public static PendingChunks Locate(in MobaBackwardArgs args, in MobaSegmentCursor cursor, int chunksPerRow,
            int thread) => new()
        {
            Row0 = RowOf(args, cursor, chunksPerRow, thread),
            Row1 = RowOf(args, cursor, chunksPerRow, thread + Threads),
            Row2 = RowOf(args, cursor, chunksPerRow, thread + 2 * Threads),
            Row3 = RowOf(args, cursor, chunksPerRow, thread + 3 * Threads),
        };

        /// <summary>Global chunk addresses in q (and dO) of the located chunks.</summary>
        public readonly StageAddresses Addresses(int queryStart, int heads, int head, int chunksPerRow, int thread) => new()
        {
            A0 = MobaGatheredChunk.Address(Row0, queryStart, heads, head, chunksPerRow, thread),
            A1 = MobaGatheredChunk.Address(Row1, queryStart, heads, head, chunksPerRow, thread + Threads),
            A2 = MobaGatheredChunk.Address(Row2, queryStart, heads, head, chunksPerRow, thread + 2 * Threads),
            A3 = MobaGatheredChunk.Address(Row3, queryStart, heads, head, chunksPerRow, thread + 3 * Threads),
        };

        private static int RowOf(in MobaBackwardArgs args, in MobaSegmentCursor cursor, int chunksPerRow, int index)
        {
            int row = index / chunksPerRow;
            return row < BlockM && cursor.Valid ? cursor.LocalRow(args, row) : -1;
        }
    }

    /// <summary>
    /// One row of the next tile's row table, held in registers by thread <c>row</c> &lt; BlockM: first its
    /// sequence-local row (<see cref="Locate"/>), then what depends on it (<see cref="Complete"/>).
    /// </summary>
    private struct PendingRow
    {
        public int LocalRow;
        public int FirstChunk;
        public int LastKey;
        public float LseLog2;
        public float Delta;

        /// <summary>Issues the load of tile row <paramref name="row"/>'s index (−1 past the segment or the walk).</summary>
        public static PendingRow Locate(in MobaBackwardArgs args, in MobaSegmentCursor cursor, int row) => new()
        {
            LocalRow = row < BlockM && cursor.Valid ? cursor.LocalRow(args, row) : -1,
        };

        /// <summary>Issues the loads that need the row index.</summary>
        public readonly PendingRow Complete(in MobaBackwardArgs args, in MobaKeyBlock block, int keyEnd,
            in MobaSegmentCursor cursor, int chunksPerRow)
        {
            if (LocalRow < 0)
                return new PendingRow { LocalRow = -1, FirstChunk = -1, LastKey = -1, LseLog2 = float.PositiveInfinity };
            int queryRow = block.Sequence.QStart + LocalRow;
            return new PendingRow
            {
                LocalRow = LocalRow,
                FirstChunk = (queryRow * args.Heads + cursor.Head) * chunksPerRow,
                LastKey = IntrinsicMath.Min(block.LastVisibleKey(LocalRow, args.Causal != 0), keyEnd - 1),
                LseLog2 = args.Lse[cursor.Head * args.TotalQ + queryRow] * MobaScale.Log2E,
                Delta = args.Delta[cursor.Head * args.TotalQ + queryRow],
            };
        }

        /// <summary>Writes the row into the shared table.</summary>
        public readonly void Store(in MobaRowTable rows, int row)
        {
            rows.FirstChunk[row] = FirstChunk;
            rows.LastKey[row] = LastKey;
            rows.LseLog2[row] = LseLog2;
            rows.Delta[row] = Delta;
            rows.StatsSlot[row] = -1;
        }
    }

    /// <summary>Pair index of column <paramref name="dim0"/> of sequence-local key <paramref name="key"/>; −1 past <paramref name="keyEnd"/>.</summary>
    private static long KeyPair(in MobaBackwardArgs args, in MobaKeyBlock block, int kvHead, int key, int keyEnd,
        int headDim, int dim0) =>
        key >= keyEnd ? -1 : (((long)(block.Sequence.KStart + key) * args.HeadsKv + kvHead) * headDim + dim0) / 2;
}
