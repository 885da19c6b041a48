using ILGPU;
using ILGPU.Algorithms;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dense FlashAttention-2 forward (DESIGN.md §3 steps 4–5 with every key selected, §4.4): one CTA owns
/// <see cref="BlockM"/> query rows of one (sequence, query head) and streams the sequence's key/value
/// tiles through shared memory, double-buffered: the loads of the next key/value tile
/// (<see cref="DenseForwardStage"/>) are in flight while the current one is computed. Each warp keeps its
/// 16 query rows as MMA fragments in registers, turns the score accumulator straight into the A operand of
/// P·V (no shared-memory round trip) and folds every tile into an online softmax in base 2 (scale · log2 e is one multiply). Only key tiles that
/// cross a row's causal limit or the ragged end of the sequence are masked.
/// </summary>
internal static partial class DenseForward
{
    /// <summary>
    /// Warps per CTA; each owns one 16-row MMA slab of the query tile. Eight (one CTA per SM at d = 128, 222
    /// registers) measured as fast as four (two CTAs per SM) at 8K and 16K and 8% faster at 32K; each thread
    /// stages half as many chunks per tile (benchmarks/results/dense-h200.md).
    /// </summary>
    public const int Warps = 8;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>Query rows per CTA: one 16-row slab per warp (Q fragments + output + scores fit in registers).</summary>
    public const int BlockM = Warps * 16;

    /// <summary>Keys per tile: one 16×64 fp32 score tile (32 registers) per warp; two K + V stages = 64 KB at d = 128.</summary>
    public const int BlockN = 64;

    /// <summary>
    /// <c>Grid.IdxX = reversedTile · (batch · H) + sequence · H + head</c>: the last query tiles, which see
    /// the most keys under causal masking, are launched first so the short ones fill the tail.
    /// </summary>
    internal static void Kernel<TElem, THeadDim>(DenseForwardArgs args)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        int headDim = default(THeadDim).Value, chunksPerRow = headDim / Chunk16.Elements;
        int pairs = ((int)args.CuSeqlensQ.Length - 1) * args.Heads;
        int tile = args.QueryTiles - 1 - Grid.IdxX / pairs;
        int sequence = Grid.IdxX % pairs / args.Heads, head = Grid.IdxX % args.Heads;
        var seq = SeqInfo.Load(args.CuSeqlensQ, args.CuSeqlensK, sequence);
        int rowStart = tile * BlockM;
        if (rowStart >= seq.LenQ) return;
        bool causal = args.Causal != 0;
        int kvHead = head / (args.Heads / args.HeadsKv);

        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var layout = new DenseForwardLayout(chunksPerRow);
        int thread = Group.IdxX, m0 = Warp.WarpIdx * 16;
        int rowLo = rowStart + m0 + (Warp.LaneIdx >> 2), rowHi = rowLo + 8;
        long kvStride = (long)args.HeadsKv * chunksPerRow;
        int lastKey = seq.LastKey(IntrinsicMath.Min(rowStart + BlockM, seq.LenQ) - 1, causal);

        // Prologue: the query tile (into registers, once) and key/value tile 0, loaded synchronously.
        long qFirst = ((long)(seq.QStart + rowStart) * args.Heads + head) * chunksPerRow;
        var queryRows = new StridedRows(qFirst, (long)args.Heads * chunksPerRow, seq.LenQ - rowStart);
        TileGather.GlobalToShared(args.Q, queryRows, shared, layout.Queries, BlockM, thread, Threads);
        long kvFirst = ((long)seq.KStart * args.HeadsKv + kvHead) * chunksPerRow;
        if (lastKey >= 0)
        {
            TileGather.GlobalToSharedPair(args.K, args.V, new StridedRows(kvFirst, kvStride, seq.LenK), shared,
                layout.Keys(0), layout.Values(0), BlockN, thread, Threads);
        }
        Group.Barrier();
        var queries = QueryFragments.Load<THeadDim>(words, new TileA(layout.Queries), m0);

        // Main loop over the key tiles any row of the CTA can see. One barrier per tile: after it, tile j is in
        // its stage and every warp is done with tile j−1, so tile j+1 can be written into the other stage. Its
        // keys are loaded into registers before the scores and stored after them, its values likewise
        // around P·V: the load latency hides behind the MMAs. Past the last tile nothing is loaded
        // (zero rows) and the unused stage receives zeros.
        int lastLo = seq.LastKey(rowLo, causal), lastHi = seq.LastKey(rowHi, causal);
        int warpLast = seq.LastKey(rowStart + m0, causal);
        var softmax = OnlineSoftmax.Empty;
        var output = default(DenseOutputTile<THeadDim>);
        var lanes = new DenseStageLanes(thread, chunksPerRow, args.HeadsKv * chunksPerRow);
        for (int keyStart = 0, stage = 0; keyStart <= lastKey; keyStart += BlockN, stage ^= 1)
        {
            Group.Barrier();
            int nextStart = keyStart + BlockN;
            bool hasNext = nextStart <= lastKey;
            int nextRows = hasNext ? seq.LenK - nextStart : 0;
            long nextFirst = hasNext ? kvFirst + nextStart * kvStride : kvFirst;

            var nextKeys = DenseForwardStage.Load(args.K.SubView(nextFirst), lanes, nextRows, chunksPerRow);
            var scores = default(Acc16x64F32);
            var keys = new DenseKeysOperand(layout.Keys(stage));
            if (headDim == 128)
                scores.Mma<TElem, DenseKeysOperand>(queries.Wide, words, keys, 0, 0);
            else
                scores.Mma<TElem, DenseKeysOperand>(queries.Narrow, words, keys, 0, 0);
            // Diagonal and ragged-tail tiles only: every other tile is visible to all rows of the warp.
            if (keyStart + BlockN - 1 > warpLast) scores.MaskColumns(keyStart, lastLo, lastHi);
            softmax.Rescale(ref scores, ref output, args.ScaleLog2);
            scores.ToFragA<TElem>(out FragA16x64 probabilities);
            nextKeys.Store(shared, layout.Keys(stage ^ 1).ChunkBase, lanes, chunksPerRow);

            var nextValues = DenseForwardStage.Load(args.V.SubView(nextFirst), lanes, nextRows, chunksPerRow);
            output.AddProbabilitiesTimesValues<TElem, DenseValuesOperand>(probabilities, words,
                new DenseValuesOperand(layout.Values(stage)), 0);
            nextValues.Store(shared, layout.Values(stage ^ 1).ChunkBase, lanes, chunksPerRow);
        }

        // Epilogue: normalise, write the rows that exist and their LSE (+∞ and 0 for rows that see nothing).
        softmax.Finish(ref output, args.Scale, out float lseLo, out float lseHi);
        bool validLo = rowLo < seq.LenQ, validHi = rowHi < seq.LenQ;
        long pairLo = validLo ? ((long)(seq.QStart + rowLo) * args.Heads + head) * headDim / 2 : -1;
        long pairHi = validHi ? ((long)(seq.QStart + rowHi) * args.Heads + head) * headDim / 2 : -1;
        output.StoreGlobal<TElem>(args.Output, pairLo, pairHi);
        if ((Warp.LaneIdx & 3) == 0)
        {
            if (validLo) args.Lse[(long)head * args.TotalQ + seq.QStart + rowLo] = lseLo;
            if (validHi) args.Lse[(long)head * args.TotalQ + seq.QStart + rowHi] = lseHi;
        }
    }
}
