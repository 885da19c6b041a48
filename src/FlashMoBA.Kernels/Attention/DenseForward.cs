using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dense FlashAttention-2 forward (DESIGN.md §4.4): output and LSE of softmax(scale·QKᵀ)V over varlen
/// sequences, GQA/MQA, causal (bottom-right) or not. One CTA owns <see cref="BlockM"/> query rows of
/// one (sequence, query head) and streams the sequence's key/value tiles through shared memory;
/// each warp keeps 16 query rows: Q fragments, the output accumulator and the online softmax in
/// registers, with S = QKᵀ fed to P·V straight from registers.
/// </summary>
internal static partial class DenseForward
{
    /// <summary>Warps per CTA; each owns 16 query rows (one MMA row slab).</summary>
    public const int Warps = 8;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>Query rows per CTA: one 16-row slab per warp.</summary>
    public const int BlockM = Warps * 16;

    /// <summary>Keys per tile: S is 16×64 per warp (32 fp32 registers), P·V k-depth 64.</summary>
    public const int BlockN = 64;

    /// <summary>
    /// The kernel. <typeparamref name="TQ"/> / <typeparamref name="TO"/> are the register tiles for the
    /// head dimension (<c>FragA16x128</c> / <c>Acc16x128F32</c> for d = 128), so every loop over d is
    /// unrolled at compile time. Grid: (query tiles of the longest sequence, heads, batch).
    /// </summary>
    internal static void Kernel<TElem, TQ, TO, TCausal>(DenseForwardArgs args)
        where TElem : struct, IElementOps
        where TQ : struct, IFragmentTile
        where TO : struct, IAccumulatorTile
        where TCausal : struct, ICausalFlag
    {
        int m0 = Grid.IdxX * BlockM, head = Grid.IdxY;
        var seq = SeqInfo.Load(args.CuSeqlensQ, args.CuSeqlensK, Grid.IdxZ);
        if (m0 >= seq.LenQ) return;

        bool causal = default(TCausal).Enabled;
        int headDim = default(TO).Columns, chunks = headDim / Chunk16.Elements;
        int kvHead = head / (args.Heads / args.HeadsKv);
        int thread = Group.IdxX, warp = Warp.WarpIdx, lane = Warp.LaneIdx;
        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var tileQ = new SharedTile(0, chunks);
        var tileK = new SharedTile(BlockM * chunks, chunks);
        var tileV = new SharedTile((BlockM + BlockN) * chunks, chunks);

        // Prologue: Q tile → shared → this warp's 16 rows as A fragments.
        long qStride = (long)args.Heads * chunks, kvStride = (long)args.HeadsKv * chunks;
        TileCopy.GlobalToShared(args.Q, (seq.QStart + m0) * qStride + head * chunks, qStride, seq.LenQ - m0,
            shared, tileQ, BlockM, thread, Threads);
        Group.Barrier();
        var q = default(TQ);
        q.Load(words, new TileA(tileQ), warp * 16, 0);

        int rowLo = m0 + warp * 16 + (lane >> 2), rowHi = rowLo + 8;
        int lastLo = seq.LastKey(rowLo, causal), lastHi = seq.LastKey(rowHi, causal);
        // Keys any row of this CTA can see; causal CTAs stop at the diagonal of their last row.
        int keyEnd = causal ? Math.Min(seq.LenK, m0 + BlockM + seq.CausalOffset) : seq.LenK;
        int keyTiles = keyEnd > 0 ? (keyEnd + BlockN - 1) / BlockN : 0;
        // First key tile that crosses the diagonal of this CTA's first row (or the ragged end).
        int firstMaskedKey = causal ? Math.Min(seq.LenK, m0 + seq.CausalOffset + 1) : seq.LenK;

        var o = default(TO);
        var softmax = OnlineSoftmax.Empty;
        for (int tile = 0; tile < keyTiles; tile++)
        {
            int n0 = tile * BlockN;
            Group.Barrier();
            TileCopy.GlobalToShared(args.K, (seq.KStart + n0) * kvStride + kvHead * chunks, kvStride, seq.LenK - n0,
                shared, tileK, BlockN, thread, Threads);
            TileCopy.GlobalToShared(args.V, (seq.KStart + n0) * kvStride + kvHead * chunks, kvStride, seq.LenK - n0,
                shared, tileV, BlockN, thread, Threads);
            Group.Barrier();

            var s = default(Acc16x64F32);
            q.MmaInto<TElem, TransposedTileB>(ref s, words, new TransposedTileB(tileK), 0, 0);
            if (n0 + BlockN > firstMaskedKey) s.MaskColumns(n0, lastLo, lastHi);
            softmax.Rescale(ref s, ref o, args.ScaleLog2, words);
            s.ToFragA<TElem>(out var p);
            o.Mma<TElem, TileB>(p, words, new TileB(tileV), 0, 0);
        }

        // Epilogue: normalise, store this warp's rows (pairs of 16-bit values) and their LSE.
        softmax.Finish(ref o, args.Scale, words, out float lseLo, out float lseHi);
        long pairLo = rowLo < seq.LenQ ? ((long)(seq.QStart + rowLo) * args.Heads + head) * (headDim / 2) : -1;
        long pairHi = rowHi < seq.LenQ ? ((long)(seq.QStart + rowHi) * args.Heads + head) * (headDim / 2) : -1;
        o.StoreGlobal<TElem>(args.Output, pairLo, pairHi, 1f);
        if ((lane & 3) == 0)
        {
            long lseRow = (long)head * args.TotalQ + seq.QStart;
            if (rowLo < seq.LenQ) args.Lse[lseRow + rowLo] = lseLo;
            if (rowHi < seq.LenQ) args.Lse[lseRow + rowHi] = lseHi;
        }
    }
}
