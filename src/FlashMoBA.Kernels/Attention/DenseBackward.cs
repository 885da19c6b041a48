using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dense FlashAttention-2 backward main kernel (DESIGN.md §3 step 6, §4.3–4.4). One CTA owns one tile of
/// <see cref="BlockN"/> keys of one sequence and KV head and walks, for every query head of the GQA
/// group, the query tiles that can see those keys (under causal masking, from the diagonal on). Per
/// tile it recomputes P = 2^(s·scale·log2 e − LSE·log2 e) from the forward's LSE, forms
/// dS = P∘(dP − D) with dP = dO·Vᵀ, accumulates dV += Pᵀ·dO and dK += dSᵀ·Q in registers and adds
/// dQ = dS·K to an fp32 buffer with 16-byte vector reductions straight from registers, which the buffer's
/// <see cref="InterleavedColumns"/> order allows (scaled when rounded). dK and dV are written once, without atomics:
/// the CTA owns its keys for the whole group, so the group's sum is complete there.
/// The walk is software-pipelined with one barrier per query tile: the next tile's q, dO, LSE and D are
/// loaded into registers (<see cref="DenseForwardStage"/>, <see cref="DenseBackwardRows"/>) before the
/// current tile's MMAs and stored into a free q/dO stage before the barrier (<see cref="DenseBackwardLayout"/>).
/// </summary>
internal static partial class DenseBackward
{
    /// <summary>Warps per CTA: 4 row slabs × 2 column halves (S and dP split by keys, dK/dV/dQ by head dims).</summary>
    public const int Warps = 8;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>16-row slabs per query tile; warps w and w + 4 share slab w.</summary>
    public const int RowSlabs = 4;

    /// <summary>Query rows per tile.</summary>
    public const int BlockM = RowSlabs * 16;

    /// <summary>Keys per CTA: each warp keeps 16 keys × d/2 of dK and dV (64 registers at d = 128).</summary>
    public const int BlockN = 64;

    /// <summary>
    /// The q/dO staging reuses the forward's key/value staging (<see cref="DenseForwardStage"/>,
    /// <see cref="DenseStageLanes"/>), which copies <see cref="DenseForward.BlockN"/> rows with
    /// <see cref="DenseForward.Threads"/> threads: a query tile must have as many rows and the CTA as many
    /// threads (this constant does not compile otherwise).
    /// </summary>
    private const int StageGeometryMatches = 1 / (BlockM == DenseForward.BlockN && Threads == DenseForward.Threads ? 1 : 0);

    /// <summary><c>Grid.IdxX = keyTile · (batch · Hk) + sequence · Hk + kvHead</c>: the first key tiles, which
    /// most query rows see under causal masking, are launched first.</summary>
    internal static void Kernel<TElem, THeadDim>(DenseBackwardArgs args)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        int headDim = default(THeadDim).Value, chunksPerRow = headDim / Chunk16.Elements;
        int pairs = ((int)args.CuSeqlensQ.Length - 1) * args.HeadsKv;
        int keyTile = Grid.IdxX / pairs;
        int sequence = Grid.IdxX % pairs / args.HeadsKv, kvHead = Grid.IdxX % args.HeadsKv;
        var seq = SeqInfo.Load(args.CuSeqlensQ, args.CuSeqlensK, sequence);
        int keyStart = keyTile * BlockN;
        if (keyStart >= seq.LenK) return;
        int keyEnd = IntrinsicMath.Min(keyStart + BlockN, seq.LenK);
        bool causal = args.Causal != 0;

        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var layout = new DenseBackwardLayout(chunksPerRow);
        int thread = Group.IdxX, warp = Warp.WarpIdx;
        int m0 = (warp % RowSlabs) * 16;              // query rows of S, dP, dQ; key rows of dK, dV
        int scoreColumn0 = (warp / RowSlabs) * (BlockN / 2);
        int dim0 = (warp / RowSlabs) * (headDim / 2);
        int rowLo = m0 + (Warp.LaneIdx >> 2), rowHi = rowLo + 8;

        // Query row t sees key j iff j ≤ t + offset: rows before keyStart − offset see none of these keys.
        int firstRow = causal ? IntrinsicMath.Max(0, keyStart - seq.CausalOffset) : 0;
        int firstTileStart = firstRow / BlockM * BlockM;
        int groupSize = args.Heads / args.HeadsKv;
        int head = kvHead * groupSize, headEnd = head + groupSize;
        int tileStart = firstTileStart;
        long qStride = (long)args.Heads * chunksPerRow;
        long qSequence = (long)seq.QStart * qStride;

        // Prologue: keys, values and the first query tile, loaded synchronously.
        long kvStride = (long)args.HeadsKv * chunksPerRow;
        long kvFirst = ((long)(seq.KStart + keyStart) * args.HeadsKv + kvHead) * chunksPerRow;
        TileGather.GlobalToSharedPair(args.K, args.V, new StridedRows(kvFirst, kvStride, keyEnd - keyStart), shared,
            layout.Keys, layout.Values, BlockN, thread, Threads);
        var lanes = new DenseStageLanes(thread, chunksPerRow, args.Heads * chunksPerRow);
        bool hasTile = tileStart < seq.LenQ;
        int firstRows = hasTile ? seq.LenQ - tileStart : 0;
        long qFirst = hasTile ? qSequence + (long)tileStart * qStride + head * chunksPerRow : 0;
        DenseForwardStage.Load(args.Q.SubView(qFirst), lanes, firstRows, chunksPerRow)
            .Store(shared, layout.Queries(0).ChunkBase, lanes, chunksPerRow);
        DenseForwardStage.Load(args.DOut.SubView(qFirst), lanes, firstRows, chunksPerRow)
            .Store(shared, layout.OutputGrads(0).ChunkBase, lanes, chunksPerRow);
        var stats = DenseBackwardRows.Load(args, seq, head, tileStart + rowLo, tileStart + rowHi);
        Group.Barrier();

        var keysT = new DenseKeysOperand(layout.Keys);
        var valuesT = new DenseKeysOperand(layout.Values);
        var keysB = new DenseColumnsOperand(layout.Keys, dim0);
        var scoreStore = new DenseScoreStore(layout.Probabilities(0).ChunksPerRow, m0, scoreColumn0);
        var dKLeft = default(Acc16x32F32);
        var dKRight = default(Acc16x32F32);
        var dVLeft = default(Acc16x32F32);
        var dVRight = default(Acc16x32F32);
        for (int stage = 0, buffer = 0; hasTile; buffer ^= 1)
        {
            // The next (tile, head) of the walk: its loads are in flight during this tile's MMAs.
            int nextStart = tileStart + BlockM, nextHead = head;
            if (nextStart >= seq.LenQ)
            {
                nextStart = firstTileStart;
                nextHead++;
            }
            bool hasNext = nextHead < headEnd;
            int nextRows = hasNext ? seq.LenQ - nextStart : 0;
            long nextFirst = hasNext ? qSequence + (long)nextStart * qStride + nextHead * chunksPerRow : qFirst;
            var nextQueries = DenseForwardStage.Load(args.Q.SubView(nextFirst), lanes, nextRows, chunksPerRow);
            var nextGrads = DenseForwardStage.Load(args.DOut.SubView(nextFirst), lanes, nextRows, chunksPerRow);
            var nextStats = DenseBackwardRows.Load(args, seq, hasNext ? nextHead : head, nextStart + rowLo, nextStart + rowHi);

            // S and dP for rows m0..m0+15 × keys scoreColumn0..+31.
            var queries = SlabFragments<THeadDim>(words, new DenseSlabRowsOperand(layout.Queries(stage), m0));
            var scores = default(Acc16x32F32);
            if (headDim == 128) scores.Mma<TElem, DenseKeysOperand>(queries.Wide, words, keysT, scoreColumn0, 0);
            else scores.Mma<TElem, DenseKeysOperand>(queries.Narrow, words, keysT, scoreColumn0, 0);
            var outputGrads = SlabFragments<THeadDim>(words, new DenseSlabRowsOperand(layout.OutputGrads(stage), m0));
            var probabilityGrads = default(Acc16x32F32);
            if (headDim == 128)
                probabilityGrads.Mma<TElem, DenseKeysOperand>(outputGrads.Wide, words, valuesT, scoreColumn0, 0);
            else
                probabilityGrads.Mma<TElem, DenseKeysOperand>(outputGrads.Narrow, words, valuesT, scoreColumn0, 0);

            // Only the diagonal and the ragged last key tile are masked: limits grow with the row, so the
            // warp's first row has the smallest.
            int warpLast = IntrinsicMath.Min(seq.LastKey(tileStart + m0, causal), keyEnd - 1);
            if (keyStart + scoreColumn0 + BlockN / 2 - 1 > warpLast)
            {
                scores.MaskColumns(keyStart + scoreColumn0,
                    IntrinsicMath.Min(seq.LastKey(tileStart + rowLo, causal), keyEnd - 1),
                    IntrinsicMath.Min(seq.LastKey(tileStart + rowHi, causal), keyEnd - 1));
            }
            scores.Exp2Rows(args.ScaleLog2, stats.LseLog2Lo, stats.LseLog2Hi, out _, out _);
            var probabilities = layout.Probabilities(buffer);
            var scoreGrads = layout.ScoreGrads(buffer);
            scoreStore.Store<TElem>(words, scores, probabilities);
            scores.SoftmaxGrad(probabilityGrads, stats.DeltaLo, stats.DeltaHi);
            scoreStore.Store<TElem>(words, scores, scoreGrads);

            // The next tile's stage last held tile i − 2, whose readers passed the previous barrier.
            int nextStage = stage == DenseBackwardLayout.QueryStages - 1 ? 0 : stage + 1;
            nextQueries.Store(shared, layout.Queries(nextStage).ChunkBase, lanes, chunksPerRow);
            nextGrads.Store(shared, layout.OutputGrads(nextStage).ChunkBase, lanes, chunksPerRow);
            Group.Barrier();

            // dQ += dS·K for rows m0..m0+15 × dims dim0..dim0 + d/2 (k = the keys), a half at a time, reduced into
            // the accumulator straight from registers (interleaved columns; the scale is applied when it is rounded).
            // Before dV and dK, so those MMAs run while the reductions drain (1% faster at 64K than after them).
            var rowGrads = default(FragA16x64);
            rowGrads.Load(words, new DenseSlabRowsOperand(scoreGrads, m0), 0, 0);
            long dqLo = DqRow(args, seq, tileStart + rowLo, head, headDim, dim0);
            long dqHi = DqRow(args, seq, tileStart + rowHi, head, headDim, dim0);
            var dQ = default(Acc16x32F32);
            dQ.Mma<TElem, DenseColumnsOperand>(rowGrads, words, keysB, 0, 0);
            dQ.AtomicAddInterleaved(args.DQAccumulator, dqLo, dqHi);
            if (headDim == 128)
            {
                dQ = default;
                dQ.Mma<TElem, DenseColumnsOperand>(rowGrads, words, keysB, 32, 0);
                dQ.AtomicAddInterleaved(args.DQAccumulator, dqLo < 0 ? -1 : dqLo + 32, dqHi < 0 ? -1 : dqHi + 32);
            }

            // dV += Pᵀ·dO and dK += dSᵀ·Q for keys m0..m0+15 × dims dim0..dim0 + d/2 (k = the query rows).
            var outputGradsB = new DenseColumnsOperand(layout.OutputGrads(stage), dim0);
            var queriesB = new DenseColumnsOperand(layout.Queries(stage), dim0);
            var transposed = default(FragA16x64);
            transposed.Load(words, new DenseSlabColumnsOperand(probabilities, m0), 0, 0);
            dVLeft.Mma<TElem, DenseColumnsOperand>(transposed, words, outputGradsB, 0, 0);
            if (headDim == 128) dVRight.Mma<TElem, DenseColumnsOperand>(transposed, words, outputGradsB, 32, 0);
            transposed.Load(words, new DenseSlabColumnsOperand(scoreGrads, m0), 0, 0);
            dKLeft.Mma<TElem, DenseColumnsOperand>(transposed, words, queriesB, 0, 0);
            if (headDim == 128) dKRight.Mma<TElem, DenseColumnsOperand>(transposed, words, queriesB, 32, 0);

            hasTile = hasNext;
            tileStart = nextStart;
            head = nextHead;
            qFirst = nextFirst;
            stats = nextStats;
            stage = nextStage;
        }

        // Keys m0 + g and m0 + g + 8 of the tile; rows past the sequence's end are not this CTA's.
        long pairLo = KeyPair(args, seq, kvHead, keyStart + rowLo, keyEnd, headDim, dim0);
        long pairHi = KeyPair(args, seq, kvHead, keyStart + rowHi, keyEnd, headDim, dim0);
        dKLeft.StoreGlobal<TElem>(args.DK, pairLo, pairHi, args.Scale);
        dVLeft.StoreGlobal<TElem>(args.DV, pairLo, pairHi, 1f);
        if (headDim == 128)
        {
            long rightLo = pairLo < 0 ? -1 : pairLo + 16, rightHi = pairHi < 0 ? -1 : pairHi + 16;
            dKRight.StoreGlobal<TElem>(args.DK, rightLo, rightHi, args.Scale);
            dVRight.StoreGlobal<TElem>(args.DV, rightLo, rightHi, 1f);
        }
    }

    /// <summary>The warp's 16 rows × d of <paramref name="rows"/> as A fragments (m0 relative to the slab: 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static QueryFragments SlabFragments<THeadDim>(ArrayView<uint> words, in DenseSlabRowsOperand rows)
        where THeadDim : struct, IMobaHeadDim
    {
        var fragments = default(QueryFragments);
        if (default(THeadDim).Value == 128)
            fragments.Wide.Load(words, rows, 0, 0);
        else
            fragments.Narrow.Load(words, rows, 0, 0);
        return fragments;
    }

    /// <summary>Accumulator element of column <paramref name="dim0"/> of sequence-local query row <paramref name="row"/>; −1 past the sequence.</summary>
    private static long DqRow(in DenseBackwardArgs args, in SeqInfo seq, int row, int head, int headDim, int dim0) =>
        row >= seq.LenQ ? -1 : ((long)(seq.QStart + row) * args.Heads + head) * headDim + dim0;

    /// <summary>Pair index of column <paramref name="dim0"/> of sequence-local key <paramref name="key"/>; −1 past <paramref name="keyEnd"/>.</summary>
    private static long KeyPair(in DenseBackwardArgs args, in SeqInfo seq, int kvHead, int key, int keyEnd,
        int headDim, int dim0) =>
        key >= keyEnd ? -1 : (((long)(seq.KStart + key) * args.HeadsKv + kvHead) * headDim + dim0) / 2;
}
