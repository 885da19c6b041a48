using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Key convolution forward (DESIGN.md §3): <c>k′_t = k_t + SiLU(Σ_{ℓ&lt;W} w_ℓ ⊙ k_{t−ℓ})</c>, per
/// sequence of a varlen batch. One warp owns a run of <c>RunLength</c> tokens × 256 channels; a lane
/// holds 8 channels (one 16-byte load per token) and walks the run keeping the W−1 previous tokens
/// in registers, so each row is read once plus a W−1 row halo per run. Bandwidth-bound: one read
/// and one write of k.
/// </summary>
internal static class KeyConvForward
{
    /// <summary>Channels per lane: 8 fp16/bf16 = one 16-byte load, the widest global access.</summary>
    public const int LanesPerThread = 8;

    /// <summary>One warp covers 32 × 8 = 256 adjacent channels: each token row is a 512-byte coalesced read.</summary>
    public const int ChannelsPerWarp = 32 * LanesPerThread;

    /// <summary>
    /// Warps per CTA, each on its own run; small CTAs fill the register file in finer steps
    /// (W = 3 fits 5 per SM, W = 5 fits 4).
    /// </summary>
    public const int Warps = 4;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>
    /// Rows loaded ahead of the one being convolved: loads in flight per lane (≤ ring size 5; the walk
    /// primes this many slots explicitly).
    /// </summary>
    public const int PrefetchDistance = 4;

    /// <summary>
    /// Tokens per run: the W−1 halo costs (W−1)/RunLength extra (cached) reads. On the H200 64 is
    /// within 2% of the best of 16–128 at both widths (benchmarks/results/keyconv-h200.md).
    /// </summary>
    public const int DefaultRunLength = 64;

    /// <summary>
    /// One warp per (run of tokens, 256-channel tile). <c>Grid.IdxX = runBlock · tiles + tile</c>.
    /// </summary>
    internal static void Kernel<TElem, TWidth>(KeyConvForwardArgs args)
        where TElem : struct, IElementOps
        where TWidth : struct, IConvWidth
    {
        int tiles = (args.Groups + 31) / 32;
        int group = (Grid.IdxX % tiles) * 32 + Warp.LaneIdx;
        int runStart = ((Grid.IdxX / tiles) * Warps + Warp.WarpIdx) * args.RunLength;
        if (group >= args.Groups || runStart >= args.TotalK) return;
        int runEnd = Math.Min(runStart + args.RunLength, args.TotalK);

        var taps = ConvTaps8.Load<TWidth>(args.Weights, args.Groups, group);

        // A run may span sequence boundaries: convolve each piece with its own zero history.
        int seq = SequenceSearch.SequenceOf(args.CuSeqlensK, args.Batch, runStart);
        for (int pieceStart = runStart; pieceStart < runEnd && seq < args.Batch; seq++)
        {
            int pieceEnd = Math.Max(pieceStart, Math.Min(runEnd, args.CuSeqlensK[seq + 1]));
            int walkStart = Math.Max(args.CuSeqlensK[seq], pieceStart - (default(TWidth).Taps - 1));
            ConvolvePiece<TElem, TWidth>(args, taps, group, walkStart, pieceStart, pieceEnd);
            pieceStart = pieceEnd;
        }
    }

    /// <summary>
    /// Walks rows <c>[walkStart, pieceEnd)</c> of one sequence from a zero history and writes rows
    /// <c>[pieceStart, pieceEnd)</c>. The body is written out once per ring slot, so the loads of
    /// the next PrefetchDistance rows are in flight while a row is computed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ConvolvePiece<TElem, TWidth>(
        KeyConvForwardArgs args, ConvTaps8 taps, int group, int walkStart, int pieceStart, int pieceEnd)
        where TElem : struct, IElementOps
        where TWidth : struct, IConvWidth
    {
        var walk = new ForwardWalk { Row = walkStart };
        // Loads are never predicated: a predicated load merges into its slot through a register
        // move that waits for the data. Rows past the piece re-read its last row instead.
        // Written out, not looped: a loop-indexed slot compiles to a jump table whose register moves wait
        // for each load in turn.
        int lastRow = pieceEnd - 1;
        walk.Ahead.Set(0, args.K[walkStart * args.Groups + group]);
        walk.Ahead.Set(1, args.K[Math.Min(walkStart + 1, lastRow) * args.Groups + group]);
        walk.Ahead.Set(2, args.K[Math.Min(walkStart + 2, lastRow) * args.Groups + group]);
        walk.Ahead.Set(3, args.K[Math.Min(walkStart + 3, lastRow) * args.Groups + group]);
        // The exit tests sit between the steps, not inside them: a step that might not run would
        // merge its ring slots through moves, which again wait for the loads.
        for (; ; )
        {
            if (walk.Row >= pieceEnd) break;
            Step<TElem, TWidth>(ref walk, 0, args, taps, group, pieceStart, pieceEnd);
            if (walk.Row >= pieceEnd) break;
            Step<TElem, TWidth>(ref walk, 1, args, taps, group, pieceStart, pieceEnd);
            if (walk.Row >= pieceEnd) break;
            Step<TElem, TWidth>(ref walk, 2, args, taps, group, pieceStart, pieceEnd);
            if (walk.Row >= pieceEnd) break;
            Step<TElem, TWidth>(ref walk, 3, args, taps, group, pieceStart, pieceEnd);
            if (walk.Row >= pieceEnd) break;
            Step<TElem, TWidth>(ref walk, 4, args, taps, group, pieceStart, pieceEnd);
        }
    }

    /// <summary>
    /// One row: takes it from the prefetch ring, loads the row PrefetchDistance ahead into the slot
    /// freed one step ago, convolves it with the rows before it and stores k′ when the row belongs
    /// to the piece.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TElem, TWidth>(ref ForwardWalk walk, int slot, KeyConvForwardArgs args,
        ConvTaps8 taps, int group, int pieceStart, int pieceEnd)
        where TElem : struct, IElementOps
        where TWidth : struct, IConvWidth
    {
        int row = walk.Row;
        Lanes8 k0 = Lanes8.Unpack<TElem>(walk.Ahead.Get(slot));
        int aheadRow = Math.Min(row + PrefetchDistance, pieceEnd - 1);
        walk.Ahead.Set(Ring5<PackedHalves8>.Back(slot, Ring5<PackedHalves8>.Size - PrefetchDistance),
            args.K[aheadRow * args.Groups + group]);
        walk.Behind.Set(slot, k0);
        Lanes8 pre = taps.Convolve<TWidth>(k0, walk.Behind.Get(Ring5<Lanes8>.Back(slot, 1)),
            walk.Behind.Get(Ring5<Lanes8>.Back(slot, 2)), walk.Behind.Get(Ring5<Lanes8>.Back(slot, 3)),
            walk.Behind.Get(Ring5<Lanes8>.Back(slot, 4)));
        if (row >= pieceStart)
            args.KOut[row * args.Groups + group] = Lanes8.Pack<TElem>(Lanes8.Add(k0, Lanes8.Silu(pre)));
        walk.Row = row + 1;
    }

    /// <summary>State of one lane's walk: the rows loaded ahead and the rows already convolved.</summary>
    private struct ForwardWalk
    {
        /// <summary>
        /// Packed rows <c>Row .. Row+PrefetchDistance−1</c>; row r sits in slot (r − walk start) mod 5.
        /// </summary>
        public Ring5<PackedHalves8> Ahead;

        /// <summary>Unpacked rows <c>Row−5 .. Row−1</c> (zero before the walk start).</summary>
        public Ring5<Lanes8> Behind;

        /// <summary>Next row to convolve.</summary>
        public int Row;
    }

    /// <summary>Grid size for <paramref name="shape"/> at <paramref name="runLength"/> tokens per run.</summary>
    public static KernelConfig GridFor(in KeyConvShape shape, int runLength)
    {
        int tiles = (shape.Channels / LanesPerThread + 31) / 32;
        int runs = (shape.TotalK + runLength - 1) / runLength;
        int runBlocks = (runs + Warps - 1) / Warps;
        return new KernelConfig(tiles * runBlocks, Threads);
    }

    /// <summary>Launches the forward on <paramref name="stream"/>; arguments already validated.</summary>
    public static void Launch(KernelCache cache, AcceleratorStream stream, ElementType elementType,
        in KeyConvShape shape, in KeyConvForwardArgs args)
    {
        if (shape.TotalK == 0) return;
        KeyConvSpecialization.Forward(cache, elementType, shape.Width)
            .Launch(stream, GridFor(shape, args.RunLength), args);
    }
}

/// <summary>Everything the forward kernel reads: views over 8-channel groups and the sizes.</summary>
internal readonly struct KeyConvForwardArgs
{
    /// <summary>Builds the arguments; <paramref name="groups"/> = Channels / 8.</summary>
    public KeyConvForwardArgs(ArrayView<PackedHalves8> k, ArrayView<int> cuSeqlensK, ArrayView<Lanes8> weights,
        ArrayView<PackedHalves8> kOut, int batch, int totalK, int groups, int runLength)
    {
        K = k;
        CuSeqlensK = cuSeqlensK;
        Weights = weights;
        KOut = kOut;
        Batch = batch;
        TotalK = totalK;
        Groups = groups;
        RunLength = runLength;
    }

    /// <summary>Keys <c>[TotalK, Groups]</c>.</summary>
    public readonly ArrayView<PackedHalves8> K;

    /// <summary>Prefix sums of key lengths <c>[Batch+1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensK;

    /// <summary>Weights <c>[W, Groups]</c> fp32.</summary>
    public readonly ArrayView<Lanes8> Weights;

    /// <summary>Convolved keys <c>[TotalK, Groups]</c>; must not overlap <see cref="K"/>.</summary>
    public readonly ArrayView<PackedHalves8> KOut;

    /// <summary>Number of sequences.</summary>
    public readonly int Batch;

    /// <summary>Key rows.</summary>
    public readonly int TotalK;

    /// <summary>8-channel groups per row.</summary>
    public readonly int Groups;

    /// <summary>Tokens per warp.</summary>
    public readonly int RunLength;
}
