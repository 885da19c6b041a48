using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Key convolution backward (DESIGN.md §3). With <c>pre_t = Σ_ℓ w_ℓ ⊙ k_{t−ℓ}</c> (recomputed) and
/// <c>g_t = dK′_t ⊙ SiLU′(pre_t)</c>: <c>dK_t = dK′_t + Σ_ℓ w_ℓ ⊙ g_{t+ℓ}</c> and
/// <c>dW_ℓ = Σ_t g_t ⊙ k_{t−ℓ}</c>, both within each sequence. A warp walks runs of tokens × 64
/// channels (2 per lane), striding over runs so that each lane sums dW for many runs in
/// registers; the CTA folds its warps in shared memory and writes one partial per CTA row,
/// which <see cref="ReducePartialsKernel"/> sums in a fixed order: deterministic, no atomics.
/// </summary>
internal static class KeyConvBackward
{
    /// <summary>
    /// Channels per lane. At W = 5 a lane keeps, per channel, 5 weights, 5 dW sums, 5 rows of k,
    /// 5 pending dK sums and 4 rows of k and dK′ in flight: 2 channels take 94 registers (20 warps per
    /// SM; 72 at W = 3), 4 channels took 172 (10 warps) for only 12% fewer instructions per element.
    /// </summary>
    public const int LanesPerThread = 2;

    /// <summary>One warp covers 32 × 2 = 64 adjacent channels: 128-byte coalesced rows (one cache line).</summary>
    public const int ChannelsPerWarp = 32 * LanesPerThread;

    /// <summary>
    /// Warps per CTA; adjacent warps take adjacent runs, so halos hit in cache; 7 (W = 5) to 9
    /// (W = 3) CTAs fit per SM.
    /// </summary>
    public const int Warps = 4;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>Widest convolution: sizes the shared dW fold.</summary>
    public const int MaxTaps = 5;

    /// <summary>
    /// Rows loaded ahead of the one being processed: the ring's five slots minus the one being
    /// consumed, so a load never targets a register still in use.
    /// </summary>
    public const int PrefetchDistance = 4;

    /// <summary>
    /// Shortest run the default plan uses: each run re-reads W−1 rows before and after it (cached)
    /// and starts with an exposed load latency.
    /// </summary>
    public const int MinRunLength = 32;

    /// <summary>
    /// Rows the L2 prefetch runs ahead of each walk (see <see cref="L2Prefetch"/>). Measured on the H200
    /// (b = 2, N = 64K, Hk = 16, d = 128, fp16, benchmarks/results/keyconv-h200.md): 0 / 8 / 16 / 32 rows
    /// took 0.622 / 0.510 / 0.526 / 0.651 ms at W = 5 and 0.542 / 0.468 / 0.535 / 0.664 ms at W = 3; far
    /// ahead, the prefetched rows no longer stay in L2 until they are read.
    /// </summary>
    public const int DefaultL2PrefetchRows = 8;

    /// <summary>
    /// One warp per (run, 64-channel tile), striding by <c>Partials · Warps</c> runs.
    /// <c>Grid.IdxX = partial · tiles + tile</c>; writes <c>DwPartials[partial, W, Channels]</c>.
    /// </summary>
    internal static void Kernel<TElem, TWidth>(KeyConvBackwardArgs args)
        where TElem : struct, IElementOps
        where TWidth : struct, IConvWidth
    {
        int tiles = (args.Groups + 31) / 32;
        int tile = Grid.IdxX % tiles;
        int partial = Grid.IdxX / tiles;
        int group = tile * 32 + Warp.LaneIdx;
        int taps = default(TWidth).Taps;
        ConvTaps2 dW = default;

        if (group < args.Groups)
        {
            var w = ConvTaps2.Load<TWidth>(args.Weights, args.Groups, group);
            var prefetch = new L2Prefetch(args.KAddress, args.DKPrimeAddress, args.Groups, tile, Warp.LaneIdx,
                args.L2PrefetchRows);
            int runs = (args.TotalK + args.RunLength - 1) / args.RunLength;
            for (int run = partial * Warps + Warp.WarpIdx; run < runs; run += args.Partials * Warps)
            {
                int runStart = run * args.RunLength;
                int runEnd = Math.Min(runStart + args.RunLength, args.TotalK);
                int seq = SequenceSearch.SequenceOf(args.CuSeqlensK, args.Batch, runStart);
                for (int pieceStart = runStart; pieceStart < runEnd && seq < args.Batch; seq++)
                {
                    int seqEnd = args.CuSeqlensK[seq + 1];
                    int pieceEnd = Math.Max(pieceStart, Math.Min(runEnd, seqEnd));
                    int walkStart = Math.Max(args.CuSeqlensK[seq], pieceStart - (taps - 1));
                    dW = BackwardPiece<TElem, TWidth>(args, w, dW, group, prefetch, walkStart, pieceStart, pieceEnd,
                        seqEnd);
                    pieceStart = pieceEnd;
                }
            }
        }

        // Fold the warps' sums: shared [warp, tap, lane] of Lanes2 = [warp, tap, channel] floats.
        var fold = SharedMemory.Allocate<Lanes2>(Warps * MaxTaps * 32);
        int slot = Warp.WarpIdx * MaxTaps * 32 + Warp.LaneIdx;
        fold[slot] = dW.W0;
        fold[slot + 1 * 32] = dW.W1;
        fold[slot + 2 * 32] = dW.W2;
        if (taps == 5)
        {
            fold[slot + 3 * 32] = dW.W3;
            fold[slot + 4 * 32] = dW.W4;
        }
        Group.Barrier();
        var foldFlat = fold.Cast<float>();
        for (int item = Group.IdxX; item < taps * ChannelsPerWarp; item += Threads)
        {
            int tap = item / ChannelsPerWarp;
            int channelInTile = item - tap * ChannelsPerWarp;
            float sum = 0f;
            for (int warp = 0; warp < Warps; warp++)
                sum += foldFlat[(warp * MaxTaps + tap) * ChannelsPerWarp + channelInTile];
            int channel = tile * ChannelsPerWarp + channelInTile;
            if (channel < args.Groups * LanesPerThread)
                args.DwPartials[(partial * taps + tap) * args.Groups * LanesPerThread + channel] = sum;
        }
    }

    /// <summary>
    /// Walks rows <c>[walkStart, pieceEnd + W − 1)</c> of one sequence (rows from
    /// <paramref name="seqEnd"/> on carry zero gradient), writes dK for rows
    /// <c>[pieceStart, pieceEnd)</c> — each needs g up to W−1 rows ahead — and adds those rows' dW
    /// terms to <paramref name="dW"/>. The loop body is written out once per ring slot like the
    /// forward walk: each step refills the slot its predecessor consumed with the row
    /// <see cref="PrefetchDistance"/> ahead, so 2 × 4 loads stay in flight per lane, and prefetches the
    /// row <see cref="L2Prefetch.RowsAhead"/> ahead into L2, so those loads mostly hit L2. (Loading five
    /// rows at once for the next iteration did not keep them in flight: ptxas sank those loads to the
    /// loop's back edge, where their registers were free, so every iteration started by waiting a full
    /// memory latency.) Groups of five rows inside the piece, with their dK rows complete, take a
    /// copy of the body without masks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ConvTaps2 BackwardPiece<TElem, TWidth>(KeyConvBackwardArgs args, ConvTaps2 w, ConvTaps2 dW,
        int group, L2Prefetch prefetch, int walkStart, int pieceStart, int pieceEnd, int seqEnd)
        where TElem : struct, IElementOps
        where TWidth : struct, IConvWidth
    {
        if (walkStart >= pieceEnd) return dW;
        int walkEnd = pieceEnd + default(TWidth).Taps - 1;
        var piece = new PieceBounds(pieceStart, pieceEnd, Math.Min(walkEnd, seqEnd));
        var walk = new BackwardWalk { Row = walkStart, DW = dW, Prefetch = prefetch };
        int lastRow = piece.DataEnd - 1;
        for (int row = walkStart; row < Math.Min(walkStart + prefetch.RowsAhead, piece.DataEnd); row++)
            prefetch.Row(row);
        // Written out, not looped: a loop-indexed slot compiles to a jump table whose register moves wait
        // for each load in turn.
        LoadRow(ref walk.AheadK, ref walk.AheadDy, 0, args, group, walkStart);
        LoadRow(ref walk.AheadK, ref walk.AheadDy, 1, args, group, Math.Min(walkStart + 1, lastRow));
        LoadRow(ref walk.AheadK, ref walk.AheadDy, 2, args, group, Math.Min(walkStart + 2, lastRow));
        LoadRow(ref walk.AheadK, ref walk.AheadDy, 3, args, group, Math.Min(walkStart + 3, lastRow));
        // Interior rows (in the piece, their dK row complete, data present) need no masks. Their exit
        // tests never fire; they keep each step a block of its own, so ptxas leaves each step's loads in
        // that step (one block of five steps had the loads of all five gathered late, ~150 instructions
        // before their use instead of four steps).
        int interiorStart = pieceStart + default(TWidth).Taps - 1;
        for (; ; )
        {
            if (walk.Row >= interiorStart && walk.Row + Ring5<PackedHalves2>.Size <= pieceEnd)
            {
                Step<TElem, TWidth>(ref walk, 0, args, w, group, piece, interior: true);
                if (walk.Row >= walkEnd) break;
                Step<TElem, TWidth>(ref walk, 1, args, w, group, piece, interior: true);
                if (walk.Row >= walkEnd) break;
                Step<TElem, TWidth>(ref walk, 2, args, w, group, piece, interior: true);
                if (walk.Row >= walkEnd) break;
                Step<TElem, TWidth>(ref walk, 3, args, w, group, piece, interior: true);
                if (walk.Row >= walkEnd) break;
                Step<TElem, TWidth>(ref walk, 4, args, w, group, piece, interior: true);
                continue;
            }
            if (walk.Row >= walkEnd) break;
            Step<TElem, TWidth>(ref walk, 0, args, w, group, piece, interior: false);
            if (walk.Row >= walkEnd) break;
            Step<TElem, TWidth>(ref walk, 1, args, w, group, piece, interior: false);
            if (walk.Row >= walkEnd) break;
            Step<TElem, TWidth>(ref walk, 2, args, w, group, piece, interior: false);
            if (walk.Row >= walkEnd) break;
            Step<TElem, TWidth>(ref walk, 3, args, w, group, piece, interior: false);
            if (walk.Row >= walkEnd) break;
            Step<TElem, TWidth>(ref walk, 4, args, w, group, piece, interior: false);
        }
        return walk.DW;
    }

    /// <summary>
    /// One row u: recompute <c>pre_u</c>, form <c>g_u</c> (zero past the data), add
    /// <c>g_u ⊙ k_{u−ℓ}</c> to dW when u is in the piece and <c>w_ℓ ⊙ g_u</c> to the pending dK of
    /// rows u−ℓ, and store dK of row u − (W−1), which is then complete.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TElem, TWidth>(ref BackwardWalk walk, int slot, KeyConvBackwardArgs args,
        ConvTaps2 w, int group, PieceBounds piece, bool interior)
        where TElem : struct, IElementOps
        where TWidth : struct, IConvWidth
    {
        int lag = default(TWidth).Taps - 1;
        int row = walk.Row;
        var k0 = Lanes2.Unpack<TElem>(walk.AheadK.Get(slot));
        var dy = Lanes2.Unpack<TElem>(walk.AheadDy.Get(slot));
        LoadRow(ref walk.AheadK, ref walk.AheadDy, Ring5<PackedHalves2>.Back(slot, 1), args, group,
            Math.Min(row + PrefetchDistance, piece.DataEnd - 1));
        walk.Prefetch.Row(Math.Min(row + walk.Prefetch.RowsAhead, piece.DataEnd - 1));

        walk.BehindK.Set(slot, k0);
        var k1 = walk.BehindK.Get(Ring5<Lanes2>.Back(slot, 1));
        var k2 = walk.BehindK.Get(Ring5<Lanes2>.Back(slot, 2));
        var k3 = walk.BehindK.Get(Ring5<Lanes2>.Back(slot, 3));
        var k4 = walk.BehindK.Get(Ring5<Lanes2>.Back(slot, 4));
        var g0 = Lanes2.Mul(dy, Lanes2.SiluDerivative(w.Convolve<TWidth>(k0, k1, k2, k3, k4)));
        // Rows past the data are re-reads of its last row (see above) and carry no gradient. The masks
        // select computed values, never a loaded register, and replace branches: a conditional
        // merge of ring slots or dW sums would make ptxas copy registers that loads still target.
        var gOwned = g0;
        if (!interior)
        {
            if (row >= piece.DataEnd) g0 = default;
            gOwned = row >= piece.Start && row < piece.End ? g0 : default;
        }
        walk.DW.Accumulate<TWidth>(gOwned, k0, k1, k2, k3, k4);

        // g_u reaches dK of rows u−ℓ through w_ℓ: each pending row keeps its own sum, started at dK′_u.
        walk.PendingDK.Set(slot, Lanes2.MulAdd(w.W0, g0, dy));
        AddToPending(ref walk.PendingDK, Ring5<Lanes2>.Back(slot, 1), w.W1, g0);
        AddToPending(ref walk.PendingDK, Ring5<Lanes2>.Back(slot, 2), w.W2, g0);
        if (lag == 4)
        {
            AddToPending(ref walk.PendingDK, Ring5<Lanes2>.Back(slot, 3), w.W3, g0);
            AddToPending(ref walk.PendingDK, Ring5<Lanes2>.Back(slot, 4), w.W4, g0);
        }
        // Row u − (W−1) has now received all W taps.
        if (interior || row - lag >= piece.Start)
        {
            args.DK[(row - lag) * args.Groups + group] =
                Lanes2.Pack<TElem>(walk.PendingDK.Get(Ring5<Lanes2>.Back(slot, lag)));
        }
        walk.Row = row + 1;
    }

    /// <summary>
    /// Loads k and dK′ of <paramref name="row"/> into ring slot <paramref name="slot"/>, unpredicated:
    /// callers clamp rows past the data to its last row (a predicated load merges into its register
    /// through a move that waits for the data).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadRow(ref Ring5<PackedHalves2> k, ref Ring5<PackedHalves2> dKPrime, int slot,
        KeyConvBackwardArgs args, int group, int row)
    {
        k.Set(slot, args.K[row * args.Groups + group]);
        dKPrime.Set(slot, args.DKPrime[row * args.Groups + group]);
    }

    /// <summary>pending[slot] += tap ⊙ g.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddToPending(ref Ring5<Lanes2> pending, int slot, Lanes2 tap, Lanes2 g) =>
        pending.Set(slot, Lanes2.MulAdd(tap, g, pending.Get(slot)));

    /// <summary>Rows of one piece: dK and dW for <c>[Start, End)</c>; k and dK′ exist below <c>DataEnd</c>.</summary>
    private readonly record struct PieceBounds(int Start, int End, int DataEnd);

    /// <summary>State of one lane's backward walk.</summary>
    private struct BackwardWalk
    {
        /// <summary>
        /// Packed k of rows <c>Row .. Row + PrefetchDistance − 1</c>, row r in slot (r − walk start) mod 5.
        /// </summary>
        public Ring5<PackedHalves2> AheadK;

        /// <summary>Packed dK′ rows, same slots as <see cref="AheadK"/>.</summary>
        public Ring5<PackedHalves2> AheadDy;

        /// <summary>Unpacked k of the last five rows (zero before the walk start).</summary>
        public Ring5<Lanes2> BehindK;

        /// <summary>dK sums of the last five rows, complete W−1 rows after their own.</summary>
        public Ring5<Lanes2> PendingDK;

        /// <summary>This lane's dW sums.</summary>
        public ConvTaps2 DW;

        /// <summary>This lane's part of the L2 prefetch, <see cref="L2Prefetch.RowsAhead"/> rows ahead.</summary>
        public L2Prefetch Prefetch;

        /// <summary>Next row to process.</summary>
        public int Row;
    }

    /// <summary>Threads per CTA of the dW reduction.</summary>
    public const int ReduceThreads = 256;

    /// <summary>
    /// <c>dW[i] = Σ_p partials[p, i]</c> in ascending p, one thread per element: the same order on
    /// every run.
    /// </summary>
    internal static void ReducePartialsKernel(ReducePartialsArgs args)
    {
        int index = Grid.GlobalIndex.X;
        if (index >= args.DW.IntLength) return;
        float sum = 0f;
        for (int p = 0; p < args.PartialCount; p++) sum += args.Partials[p * args.DW.IntLength + index];
        args.DW[index] = sum;
    }

    /// <summary>64-channel tiles per row.</summary>
    public static int TilesFor(in KeyConvShape shape) => (shape.Channels / LanesPerThread + 31) / 32;

    /// <summary>
    /// CTA rows (= dW partials) for the device: as many as fit resident at once (<see cref="PartialsFor"/>).
    /// </summary>
    public static int DefaultPartials(KernelCache cache, in KeyConvShape shape, ElementType elementType)
    {
        var accelerator = cache.Accelerator;
        var kernel = KeyConvSpecialization.Backward(cache, elementType, shape.Width).Kernel;
        int resident = accelerator.NumMultiprocessors
            * Math.Max(1, accelerator.EstimateMaxActiveGroupsPerMultiprocessor(kernel, Threads));
        return PartialsFor(resident, TilesFor(shape), shape.TotalK);
    }

    /// <summary>
    /// CTA rows such that all <c>tiles · partials</c> CTAs are resident at once: rounded down, because the
    /// CTAs over the device's capacity run as a second wave after the first has finished (on the H200 at
    /// W = 5, 21 rows × 32 tiles = 672 CTAs for 660 slots took 0.666 ms, 20 rows 0.526 ms). At least 1,
    /// and few enough that each warp still gets <see cref="MinRunLength"/> rows.
    /// </summary>
    public static int PartialsFor(int residentCtas, int tiles, int totalK)
    {
        int useful = (int)Math.Max(1, (totalK + (long)Warps * MinRunLength - 1) / ((long)Warps * MinRunLength));
        return Math.Clamp(residentCtas / tiles, 1, useful);
    }

    /// <summary>
    /// Rows per run when the caller gives none: one run per warp of <paramref name="partials"/> CTA
    /// rows, so every warp walks the same number of rows (a second, partial round of runs would leave
    /// most warps idle while a few finish; 512-row runs took 2% (W = 5) and 3% (W = 3) longer on the H200), and at least
    /// <see cref="MinRunLength"/>.
    /// </summary>
    public static int DefaultRunLength(int totalK, int partials) =>
        (int)Math.Max((totalK + (long)partials * Warps - 1) / ((long)partials * Warps), MinRunLength);

    /// <summary>
    /// Launches the backward and the dW reduction on <paramref name="stream"/>; arguments already
    /// validated.
    /// </summary>
    public static void Launch(KernelCache cache, AcceleratorStream stream, ElementType elementType,
        in KeyConvShape shape, in KeyConvBackwardArgs args, ArrayView<float> dW)
    {
        if (shape.TotalK == 0)
        {
            dW.MemSetToZero(stream);
            return;
        }
        KeyConvSpecialization.Backward(cache, elementType, shape.Width)
            .Launch(stream, new KernelConfig(TilesFor(shape) * args.Partials, Threads), args);
        var reduce = new ReducePartialsArgs(args.DwPartials, dW, args.Partials);
        KeyConvSpecialization.ReducePartials(cache)
            .Launch(stream, new KernelConfig((dW.IntLength + ReduceThreads - 1) / ReduceThreads, ReduceThreads),
                reduce);
    }
}

/// <summary>Arguments of <see cref="KeyConvBackward.ReducePartialsKernel"/>.</summary>
/// <param name="Partials">Per-CTA-row sums <c>[PartialCount, W · Channels]</c>.</param>
/// <param name="DW">The weight gradient <c>[W · Channels]</c>.</param>
/// <param name="PartialCount">Rows of <paramref name="Partials"/> to add.</param>
internal readonly record struct ReducePartialsArgs(ArrayView<float> Partials, ArrayView<float> DW, int PartialCount);

/// <summary>Everything the backward kernel reads: views over 4-channel groups and the sizes.</summary>
internal readonly struct KeyConvBackwardArgs
{
    /// <summary>Builds the arguments; <paramref name="groups"/> = Channels / 4.</summary>
    public KeyConvBackwardArgs(ArrayView<PackedHalves2> k, ArrayView<PackedHalves2> dKPrime,
        ArrayView<int> cuSeqlensK, ArrayView<Lanes2> weights, ArrayView<PackedHalves2> dK,
        ArrayView<float> dwPartials, int batch, int totalK, int groups, int runLength, int partials,
        int l2PrefetchRows)
    {
        K = k;
        KAddress = k.LoadEffectiveAddressAsPtr().ToInt64();
        DKPrimeAddress = dKPrime.LoadEffectiveAddressAsPtr().ToInt64();
        L2PrefetchRows = l2PrefetchRows;
        DKPrime = dKPrime;
        CuSeqlensK = cuSeqlensK;
        Weights = weights;
        DK = dK;
        DwPartials = dwPartials;
        Batch = batch;
        TotalK = totalK;
        Groups = groups;
        RunLength = runLength;
        Partials = partials;
    }

    /// <summary>Keys <c>[TotalK, Groups]</c>.</summary>
    public readonly ArrayView<PackedHalves2> K;

    /// <summary>Gradient of the convolved keys <c>[TotalK, Groups]</c>.</summary>
    public readonly ArrayView<PackedHalves2> DKPrime;

    /// <summary>Prefix sums of key lengths <c>[Batch+1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensK;

    /// <summary>Weights <c>[W, Groups]</c> fp32.</summary>
    public readonly ArrayView<Lanes2> Weights;

    /// <summary>Gradient of the keys <c>[TotalK, Groups]</c>; overlaps neither input.</summary>
    public readonly ArrayView<PackedHalves2> DK;

    /// <summary>Per-CTA-row weight-gradient sums <c>[Partials, W, Channels]</c> fp32.</summary>
    public readonly ArrayView<float> DwPartials;

    /// <summary>Number of sequences.</summary>
    public readonly int Batch;

    /// <summary>Key rows.</summary>
    public readonly int TotalK;

    /// <summary>4-channel groups per row.</summary>
    public readonly int Groups;

    /// <summary>Tokens per run.</summary>
    public readonly int RunLength;

    /// <summary>CTA rows, each writing one dW partial.</summary>
    public readonly int Partials;

    /// <summary>Device address of <see cref="K"/> for L2 prefetches (kernels cannot take a view's address).</summary>
    public readonly long KAddress;

    /// <summary>Device address of <see cref="DKPrime"/>.</summary>
    public readonly long DKPrimeAddress;

    /// <summary>Rows the L2 prefetch runs ahead of the walk; 0 turns it off.</summary>
    public readonly int L2PrefetchRows;
}
