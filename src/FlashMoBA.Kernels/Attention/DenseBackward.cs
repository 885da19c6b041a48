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
/// dQ = scale·dS·K to an fp32 buffer with atomics. dK and dV are written once, without atomics: the CTA
/// owns its keys for the whole group, so the group's sum is complete there.
/// </summary>
internal static partial class DenseBackward
{
    /// <summary>Warps per CTA: 4 row slabs × 2 column halves. The tile geometry is the MoBA backward's, so
    /// both kernels share <see cref="MobaBackwardLayout"/> for their shared memory.</summary>
    public const int Warps = MobaBackward.Warps;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>16-row slabs per query tile; warps w and w + 4 share slab w.</summary>
    public const int RowSlabs = MobaBackward.RowSlabs;

    /// <summary>Query rows per tile.</summary>
    public const int BlockM = MobaBackward.BlockM;

    /// <summary>Keys per CTA: each warp keeps 16 keys × d/2 of dK and dV (64 registers at d = 128).</summary>
    public const int BlockN = MobaBackward.KeyTile;

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
        var layout = new MobaBackwardLayout(chunksPerRow);
        var rows = layout.Rows(words);
        int thread = Group.IdxX, warp = Warp.WarpIdx;
        int m0 = (warp % RowSlabs) * 16;              // query rows of S, dP, dQ; key rows of dK, dV
        int scoreColumn0 = (warp / RowSlabs) * (BlockN / 2);
        int dim0 = (warp / RowSlabs) * (headDim / 2);
        int rowLo = m0 + (Warp.LaneIdx >> 2), rowHi = rowLo + 8;

        long kvStride = (long)args.HeadsKv * chunksPerRow;
        long kvFirst = ((long)(seq.KStart + keyStart) * args.HeadsKv + kvHead) * chunksPerRow;
        TileGather.GlobalToSharedPair(args.K, args.V, new StridedRows(kvFirst, kvStride, keyEnd - keyStart), shared,
            layout.Keys, layout.Values, BlockN, thread, Threads);

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
        // Query row t sees key j iff j ≤ t + offset: rows before keyStart − offset see none of these keys.
        int firstRow = causal ? IntrinsicMath.Max(0, keyStart - seq.CausalOffset) : 0;
        int firstTileStart = firstRow / BlockM * BlockM;
        long qStride = (long)args.Heads * chunksPerRow;
        int groupSize = args.Heads / args.HeadsKv;
        for (int member = 0; member < groupSize; member++)
        {
            int head = kvHead * groupSize + member;
            for (int tileStart = firstTileStart; tileStart < seq.LenQ; tileStart += BlockM)
            {
                Group.Barrier();
                if (thread < BlockM) LoadRow(rows, thread, tileStart + thread, seq, keyEnd, head, args, causal);
                long qFirst = ((long)(seq.QStart + tileStart) * args.Heads + head) * chunksPerRow;
                TileGather.GlobalToSharedPair(args.Q, args.DOut, new StridedRows(qFirst, qStride, seq.LenQ - tileStart),
                    shared, layout.Queries, layout.OutputGrads, BlockM, thread, Threads);
                Group.Barrier();

                // S and dP for rows m0..m0+15 × keys scoreColumn0..+31; P and dS go to shared memory for the
                // transposed products.
                var scores = default(Acc16x32F32);
                QueryFragments.Load<THeadDim>(words, queries, m0).Scores<TElem, THeadDim>(ref scores, words, keysT, scoreColumn0);
                var probabilityGrads = default(Acc16x32F32);
                QueryFragments.Load<THeadDim>(words, outputGrads, m0)
                    .Scores<TElem, THeadDim>(ref probabilityGrads, words, valuesT, scoreColumn0);
                // Row 0 has the tile's smallest limit (limits grow with the row), so only the diagonal and
                // the ragged last key tile are masked.
                if (keyStart + BlockN - 1 > rows.LastKey[0])
                    scores.MaskColumns(keyStart + scoreColumn0, rows.LastKey[rowLo], rows.LastKey[rowHi]);
                scores.Exp2Rows(args.ScaleLog2, rows.LseLog2[rowLo], rows.LseLog2[rowHi], out _, out _);
                scores.StoreShared<TElem>(words, layout.Probabilities, m0, scoreColumn0);
                scores.SoftmaxGrad(probabilityGrads, rows.Delta[rowLo], rows.Delta[rowHi]);
                scores.StoreShared<TElem>(words, layout.ScoreGrads, m0, scoreColumn0);
                Group.Barrier();

                // dV += Pᵀ·dO and dK += dSᵀ·Q for keys m0..m0+15 × dims dim0..dim0 + d/2 (k = the query rows).
                var transposed = default(FragA16x64);
                transposed.Load(words, probabilitiesT, m0, 0);
                dVLeft.Mma<TElem, TileB>(transposed, words, outputGradsB, dim0, 0);
                if (headDim == 128) dVRight.Mma<TElem, TileB>(transposed, words, outputGradsB, dim0 + 32, 0);
                transposed.Load(words, scoreGradsT, m0, 0);
                dKLeft.Mma<TElem, TileB>(transposed, words, queriesB, dim0, 0);
                if (headDim == 128) dKRight.Mma<TElem, TileB>(transposed, words, queriesB, dim0 + 32, 0);

                // dQ += scale·dS·K for rows m0..m0+15 × dims dim0..dim0 + d/2 (k = the keys), a half at a time.
                var rowGrads = default(FragA16x64);
                rowGrads.Load(words, scoreGrads, m0, 0);
                long dqLo = GradElement(rows.FirstChunk[rowLo], headDim, dim0), dqHi = GradElement(rows.FirstChunk[rowHi], headDim, dim0);
                var dQ = default(Acc16x32F32);
                dQ.Mma<TElem, TileB>(rowGrads, words, keysB, dim0, 0);
                dQ.ScaleRows(args.Scale, args.Scale);
                dQ.AtomicAddGlobal(args.DQAccumulator, dqLo, dqHi);
                if (headDim == 128)
                {
                    dQ = default;
                    dQ.Mma<TElem, TileB>(rowGrads, words, keysB, dim0 + 32, 0);
                    dQ.ScaleRows(args.Scale, args.Scale);
                    dQ.AtomicAddGlobal(args.DQAccumulator, dqLo < 0 ? -1 : dqLo + 32, dqHi < 0 ? -1 : dqHi + 32);
                }
            }
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

    /// <summary>
    /// Fills row <paramref name="row"/> of the table for sequence-local query row <paramref name="localRow"/>
    /// (padding past the sequence): its (row, head) pair, last visible key of this key tile, LSE in base 2 and D.
    /// </summary>
    private static void LoadRow(in MobaRowTable rows, int row, int localRow, in SeqInfo seq, int keyEnd, int head,
        in DenseBackwardArgs args, bool causal)
    {
        if (localRow >= seq.LenQ)
        {
            rows.SetPadding(row);
            return;
        }
        int queryRow = seq.QStart + localRow;
        rows.FirstChunk[row] = queryRow * args.Heads + head;    // the (row, head) pair: dQ's row
        rows.LastKey[row] = IntrinsicMath.Min(seq.LastKey(localRow, causal), keyEnd - 1);
        rows.LseLog2[row] = args.Lse[(long)head * args.TotalQ + queryRow] * MobaScale.Log2E;
        rows.Delta[row] = args.Delta[(long)head * args.TotalQ + queryRow];
    }

    /// <summary>fp32 element index of column <paramref name="dim0"/> of (row, head) pair <paramref name="pair"/>; −1 for padding.</summary>
    private static long GradElement(int pair, int headDim, int dim0) => pair < 0 ? -1 : (long)pair * headDim + dim0;

    /// <summary>Pair index of column <paramref name="dim0"/> of sequence-local key <paramref name="key"/>; −1 past <paramref name="keyEnd"/>.</summary>
    private static long KeyPair(in DenseBackwardArgs args, in SeqInfo seq, int kvHead, int key, int keyEnd,
        int headDim, int dim0) =>
        key >= keyEnd ? -1 : (((long)(seq.KStart + key) * args.HeadsKv + kvHead) * headDim + dim0) / 2;
}
