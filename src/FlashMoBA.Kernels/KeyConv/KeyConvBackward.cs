using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Key convolution backward (DESIGN.md §3). With <c>pre_t = Σ_ℓ w_ℓ ⊙ k_{t−ℓ}</c> (recomputed) and
/// <c>g_t = dK′_t ⊙ SiLU′(pre_t)</c>: <c>dK_t = dK′_t + Σ_ℓ w_ℓ ⊙ g_{t+ℓ}</c> and
/// <c>dW_ℓ = Σ_t g_t ⊙ k_{t−ℓ}</c>, both within each sequence. A warp walks runs of tokens × 128
/// channels (4 per lane), striding over runs so that each lane sums dW for many runs in
/// registers; the CTA folds its 8 warps in shared memory and writes one partial per CTA row,
/// which <see cref="ReducePartialsKernel"/> sums in a fixed order: deterministic, no atomics.
/// </summary>
internal static class KeyConvBackward
{
    /// <summary>
    /// Channels per lane. At W = 5 a lane keeps weights, k and g histories and dW sums: 4 × 5
    /// vectors, 80 registers at 4 channels; 8 channels would need about 180 and halve occupancy.
    /// </summary>
    public const int LanesPerThread = 4;

    /// <summary>One warp covers 32 × 4 = 128 adjacent channels: 256-byte coalesced rows.</summary>
    public const int ChannelsPerWarp = 32 * LanesPerThread;

    /// <summary>Warps per CTA; adjacent warps take adjacent runs, so halos hit in cache.</summary>
    public const int Warps = 8;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>Widest convolution: sizes the shared dW fold.</summary>
    public const int MaxTaps = 5;

    /// <summary>Tokens per run: each run re-reads W−1 rows before and after it (cached).</summary>
    public const int DefaultRunLength = 64;

    /// <summary>
    /// One warp per (run, 128-channel tile), striding by <c>Partials · Warps</c> runs.
    /// <c>Grid.IdxX = partial · tiles + tile</c>; writes <c>DwPartials[partial, W, Channels]</c>.
    /// </summary>
    internal static void Kernel<TPairs, TWidth>(KeyConvBackwardArgs args)
        where TPairs : struct, IHalfPairCodec
        where TWidth : struct, IConvWidth
    {
        int tiles = (args.Groups + 31) / 32;
        int tile = Grid.IdxX % tiles;
        int partial = Grid.IdxX / tiles;
        int group = tile * 32 + Warp.LaneIdx;
        int taps = default(TWidth).Taps;
        ConvTaps4 dW = default;

        if (group < args.Groups)
        {
            var w = ConvTaps4.Load<TWidth>(args.Weights, args.Groups, group);
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
                    dW = BackwardPiece<TPairs, TWidth>(args, w, dW, group, walkStart, pieceStart, pieceEnd, seqEnd);
                    pieceStart = pieceEnd;
                }
            }
        }

        // Fold the 8 warps' sums: shared [warp, tap, lane] of Lanes4 = [warp, tap, channel] floats.
        var fold = SharedMemory.Allocate<Lanes4>(Warps * MaxTaps * 32);
        int slot = Warp.WarpIdx * MaxTaps * 32 + Warp.LaneIdx;
        fold[slot] = dW.W0;
        fold[slot + 32] = dW.W1;
        fold[slot + 64] = dW.W2;
        if (taps == 5)
        {
            fold[slot + 96] = dW.W3;
            fold[slot + 128] = dW.W4;
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
    /// <paramref name="seqEnd"/> on count as zero), writes dK for rows <c>[pieceStart, pieceEnd)</c>
    /// — each needs g up to W−1 rows ahead — and adds those rows' dW terms to <paramref name="dW"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ConvTaps4 BackwardPiece<TPairs, TWidth>(KeyConvBackwardArgs args, ConvTaps4 w, ConvTaps4 dW,
        int group, int walkStart, int pieceStart, int pieceEnd, int seqEnd)
        where TPairs : struct, IHalfPairCodec
        where TWidth : struct, IConvWidth
    {
        if (walkStart >= pieceEnd) return dW;
        int lag = default(TWidth).Taps - 1;
        int walkEnd = pieceEnd + lag;
        int dataEnd = Math.Min(walkEnd, seqEnd);
        Lanes4 k1 = default, k2 = default, k3 = default, k4 = default;
        Lanes4 g1 = default, g2 = default, g3 = default, g4 = default;
        // dK′ rows stay packed until their dK is written, lag rows later.
        PackedHalves4 dy1 = default, dy2 = default, dy3 = default, dy4 = default;
        PackedHalves4 nextK = args.K[walkStart * args.Groups + group];
        PackedHalves4 nextDy = args.DKPrime[walkStart * args.Groups + group];
        for (int row = walkStart; row < walkEnd; row++)
        {
            Lanes4 k0 = default;
            PackedHalves4 dy0 = default;
            if (row < dataEnd)
            {
                k0 = Lanes4.Unpack<TPairs>(nextK);
                dy0 = nextDy;
                if (row + 1 < dataEnd)
                {
                    nextK = args.K[(row + 1) * args.Groups + group];
                    nextDy = args.DKPrime[(row + 1) * args.Groups + group];
                }
            }
            Lanes4 pre = w.Convolve<TWidth>(k0, k1, k2, k3, k4);
            Lanes4 g0 = Lanes4.Mul(Lanes4.Unpack<TPairs>(dy0), Lanes4.SiluDerivative(pre));
            if (row >= pieceStart && row < pieceEnd) dW.Accumulate<TWidth>(g0, k0, k1, k2, k3, k4);

            int outRow = row - lag;
            if (outRow >= pieceStart)
            {
                var dyOut = Lanes4.Unpack<TPairs>(lag == 4 ? dy4 : dy2);
                var dk = Lanes4.Add(dyOut, w.ConvolveTransposed<TWidth>(g0, g1, g2, g3, g4));
                args.DK[outRow * args.Groups + group] = Lanes4.Pack<TPairs>(dk);
            }
            k4 = k3;
            k3 = k2;
            k2 = k1;
            k1 = k0;
            g4 = g3;
            g3 = g2;
            g2 = g1;
            g1 = g0;
            dy4 = dy3;
            dy3 = dy2;
            dy2 = dy1;
            dy1 = dy0;
        }
        return dW;
    }

    /// <summary><c>dW[i] = Σ_p partials[p, i]</c> in ascending p: the same order on every run.</summary>
    internal static void ReducePartialsKernel(Index1D index, ArrayView<float> partials, ArrayView<float> dW,
        int partialCount)
    {
        float sum = 0f;
        for (int p = 0; p < partialCount; p++) sum += partials[p * dW.IntLength + index];
        dW[index] = sum;
    }

    /// <summary>128-channel tiles per row.</summary>
    public static int TilesFor(in KeyConvShape shape) => (shape.Channels / LanesPerThread + 31) / 32;

    /// <summary>
    /// CTA rows (= dW partials) that fill the GPU once: SMs × resident CTAs per SM over the tiles,
    /// at most one per 8 runs, at least 1.
    /// </summary>
    public static int DefaultPartials(Accelerator accelerator, in KeyConvShape shape, ElementType elementType,
        int runLength)
    {
        int runs = (shape.TotalK + runLength - 1) / runLength;
        int useful = Math.Max(1, (runs + Warps - 1) / Warps);
        var kernel = KeyConvKernels.For(accelerator).Backward(elementType, shape.Width).GetKernel();
        int resident = accelerator.NumMultiprocessors
            * Math.Max(1, accelerator.EstimateMaxActiveGroupsPerMultiprocessor(kernel, Threads));
        int tiles = TilesFor(shape);
        return Math.Clamp((resident + tiles - 1) / tiles, 1, useful);
    }

    /// <summary>Launches the backward and the dW reduction on <paramref name="stream"/>; arguments already validated.</summary>
    public static void Launch(Accelerator accelerator, AcceleratorStream stream, ElementType elementType,
        in KeyConvShape shape, in KeyConvBackwardArgs args, ArrayView<float> dW)
    {
        var kernels = KeyConvKernels.For(accelerator);
        if (shape.TotalK > 0)
        {
            kernels.Backward(elementType, shape.Width)(
                stream, new KernelConfig(TilesFor(shape) * args.Partials, Threads), args);
            kernels.ReducePartials(stream, dW.IntLength, args.DwPartials, dW, args.Partials);
        }
        else
        {
            dW.MemSetToZero(stream);
        }
    }
}

/// <summary>Everything the backward kernel reads: views over 4-channel groups and the sizes.</summary>
internal readonly struct KeyConvBackwardArgs
{
    /// <summary>Builds the arguments; <paramref name="groups"/> = Channels / 4.</summary>
    public KeyConvBackwardArgs(ArrayView<PackedHalves4> k, ArrayView<PackedHalves4> dKPrime,
        ArrayView<int> cuSeqlensK, ArrayView<Lanes4> weights, ArrayView<PackedHalves4> dK,
        ArrayView<float> dwPartials, int batch, int totalK, int groups, int runLength, int partials)
    {
        K = k;
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
    public readonly ArrayView<PackedHalves4> K;

    /// <summary>Gradient of the convolved keys <c>[TotalK, Groups]</c>.</summary>
    public readonly ArrayView<PackedHalves4> DKPrime;

    /// <summary>Prefix sums of key lengths <c>[Batch+1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensK;

    /// <summary>Weights <c>[W, Groups]</c> fp32.</summary>
    public readonly ArrayView<Lanes4> Weights;

    /// <summary>Gradient of the keys <c>[TotalK, Groups]</c>; overlaps neither input.</summary>
    public readonly ArrayView<PackedHalves4> DK;

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
}
