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
/// adds dQ = scale·dS·K to an fp32 buffer with atomics. dK and dV are written once at the end, with no
/// atomics: the CTA owns its keys for the whole group, so the group's sum is complete there.
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
    /// One CTA per (key block in launch order, KV head, key tile of the block):
    /// <c>Grid.IdxX = (order · HeadsKv + kvHead) · tilesPerBlock + tile</c>.
    /// </summary>
    internal static void Kernel<TElem, THeadDim>(MobaBackwardArgs args)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        int headDim = default(THeadDim).Value, chunksPerRow = headDim / Chunk16.Elements;
        int tilesPerBlock = (args.BlockSize + KeyTile - 1) / KeyTile;
        int keyTile = Grid.IdxX % tilesPerBlock;
        int kvHead = Grid.IdxX / tilesPerBlock % args.HeadsKv;
        int order = Grid.IdxX / (tilesPerBlock * args.HeadsKv);
        var block = MobaKeyBlock.Load(args.Routing, args.Routing.LaunchOrder[order], args.BlockSize);
        int keyStart = block.KeyStart + keyTile * KeyTile;
        if (keyStart >= block.KeyEnd) return;
        int keyEnd = IntrinsicMath.Min(keyStart + KeyTile, block.KeyEnd);

        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var layout = new MobaBackwardLayout(chunksPerRow);
        var rows = layout.Rows(words);
        int thread = Group.IdxX, warp = Warp.WarpIdx;
        int m0 = (warp % RowSlabs) * 16;              // query rows of S, dP, dQ; key rows of dK, dV
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
        int groupSize = args.Heads / args.HeadsKv;
        for (int member = 0; member < groupSize; member++)
        {
            int head = kvHead * groupSize + member;
            int segment = block.Block * args.Heads + head;
            int count = args.Routing.SegmentCounts[segment];
            int rowsOffset = args.Routing.SegmentOffsets[segment];
            for (int tileStart = 0; tileStart < count; tileStart += BlockM)
            {
                Group.Barrier();
                if (thread < BlockM)
                {
                    int localRow = tileStart + thread < count ? args.Routing.SegmentRows[rowsOffset + tileStart + thread] : -1;
                    LoadRow(rows, thread, localRow, block, keyEnd, head, args, chunksPerRow);
                }
                Group.Barrier();
                TileGather.GlobalToSharedPair(args.Q, args.DOut, new TableRows(rows.FirstChunk), shared, layout.Queries,
                    layout.OutputGrads, BlockM, thread, Threads);
                Group.Barrier();

                // S and dP for rows m0..m0+15 × keys scoreColumn0..+31, the A operands held in registers
                // one after the other; P and dS go to shared memory for the transposed products.
                var scores = default(Acc16x32F32);
                QueryFragments.Load<THeadDim>(words, queries, m0).Scores<TElem, THeadDim>(ref scores, words, keysT, scoreColumn0);
                var probabilityGrads = default(Acc16x32F32);
                QueryFragments.Load<THeadDim>(words, outputGrads, m0)
                    .Scores<TElem, THeadDim>(ref probabilityGrads, words, valuesT, scoreColumn0);
                if (keyStart + KeyTile - 1 > rows.LastKey[0])
                    scores.MaskColumns(keyStart + scoreColumn0, rows.LastKey[rowLo], rows.LastKey[rowHi]);
                scores.Exp2Rows(args.ScaleLog2, rows.LseLog2[rowLo], rows.LseLog2[rowHi], out _, out _);
                scores.StoreShared<TElem>(words, layout.Probabilities, m0, scoreColumn0);
                scores.SoftmaxGrad(probabilityGrads, rows.Delta[rowLo], rows.Delta[rowHi]);
                scores.StoreShared<TElem>(words, layout.ScoreGrads, m0, scoreColumn0);
                Group.Barrier();

                // dV += Pᵀ·dO and dK += dSᵀ·Q for keys m0..m0+15 × dims dim0..dim0 + d/2 (k = the 64 query rows).
                var transposed = default(FragA16x64);
                transposed.Load(words, probabilitiesT, m0, 0);
                dVLeft.Mma<TElem, TileB>(transposed, words, outputGradsB, dim0, 0);
                if (headDim == 128) dVRight.Mma<TElem, TileB>(transposed, words, outputGradsB, dim0 + 32, 0);
                transposed.Load(words, scoreGradsT, m0, 0);
                dKLeft.Mma<TElem, TileB>(transposed, words, queriesB, dim0, 0);
                if (headDim == 128) dKRight.Mma<TElem, TileB>(transposed, words, queriesB, dim0 + 32, 0);

                // dQ += scale·dS·K for rows m0..m0+15 × dims dim0..dim0 + d/2 (k = the 64 keys), one half at a time.
                var rowGrads = default(FragA16x64);
                rowGrads.Load(words, scoreGrads, m0, 0);
                long dqLo = GradElement(rows.FirstChunk[rowLo], dim0), dqHi = GradElement(rows.FirstChunk[rowHi], dim0);
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

        // Keys m0 + g and m0 + g + 8 of the tile; rows past the block's end are not this CTA's.
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
    /// Fills row <paramref name="row"/> of the table for sequence-local query row <paramref name="localRow"/>
    /// (−1: padding): its q/dO chunk, last visible key of this key tile, LSE in base 2 and D.
    /// </summary>
    private static void LoadRow(in MobaRowTable rows, int row, int localRow, in MobaKeyBlock block, int keyEnd,
        int head, in MobaBackwardArgs args, int chunksPerRow)
    {
        if (localRow < 0)
        {
            rows.SetPadding(row);
            return;
        }
        int queryRow = block.Sequence.QStart + localRow;
        rows.FirstChunk[row] = (queryRow * args.Heads + head) * chunksPerRow;
        rows.LastKey[row] = IntrinsicMath.Min(block.LastVisibleKey(localRow, args.Causal != 0), keyEnd - 1);
        rows.LseLog2[row] = args.Lse[head * args.TotalQ + queryRow] * MobaScale.Log2E;
        rows.Delta[row] = args.Delta[head * args.TotalQ + queryRow];
    }

    /// <summary>fp32 element index of column <paramref name="dim0"/> of a gathered row; −1 for padding.</summary>
    private static long GradElement(int firstChunk, int dim0) =>
        firstChunk < 0 ? -1 : (long)firstChunk * Chunk16.Elements + dim0;

    /// <summary>Pair index of column <paramref name="dim0"/> of sequence-local key <paramref name="key"/>; −1 past <paramref name="keyEnd"/>.</summary>
    private static long KeyPair(in MobaBackwardArgs args, in MobaKeyBlock block, int kvHead, int key, int keyEnd,
        int headDim, int dim0) =>
        key >= keyEnd ? -1 : (((long)(block.Sequence.KStart + key) * args.HeadsKv + kvHead) * headDim + dim0) / 2;
}
