using System.Runtime.CompilerServices;
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

    /// <summary>Warps per CTA, each on its own run of tokens.</summary>
    public const int Warps = 8;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>Tokens per run: the W−1 halo costs (W−1)/RunLength extra (cached) reads.</summary>
    public const int DefaultRunLength = 32;

    /// <summary>
    /// One warp per (run of tokens, 256-channel tile). <c>Grid.IdxX = runBlock · tiles + tile</c>.
    /// </summary>
    internal static void Kernel<TPairs, TWidth>(KeyConvForwardArgs args)
        where TPairs : struct, IHalfPairCodec
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
            ConvolvePiece<TPairs, TWidth>(args, taps, group, walkStart, pieceStart, pieceEnd);
            pieceStart = pieceEnd;
        }
    }

    /// <summary>
    /// Walks rows <c>[walkStart, pieceEnd)</c> of one sequence from a zero history and writes rows
    /// <c>[pieceStart, pieceEnd)</c>. The next row's load is issued before this row's math so two
    /// loads per lane are in flight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ConvolvePiece<TPairs, TWidth>(
        KeyConvForwardArgs args, ConvTaps8 taps, int group, int walkStart, int pieceStart, int pieceEnd)
        where TPairs : struct, IHalfPairCodec
        where TWidth : struct, IConvWidth
    {
        if (walkStart >= pieceEnd) return;
        Lanes8 k1 = default, k2 = default, k3 = default, k4 = default;
        PackedHalves8 next = args.K[walkStart * args.Groups + group];
        for (int row = walkStart; row < pieceEnd; row++)
        {
            Lanes8 k0 = Lanes8.Unpack<TPairs>(next);
            if (row + 1 < pieceEnd) next = args.K[(row + 1) * args.Groups + group];
            Lanes8 pre = taps.Convolve<TWidth>(k0, k1, k2, k3, k4);
            if (row >= pieceStart)
                args.KOut[row * args.Groups + group] = Lanes8.Pack<TPairs>(Lanes8.Add(k0, Lanes8.Silu(pre)));
            k4 = k3;
            k3 = k2;
            k2 = k1;
            k1 = k0;
        }
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
    public static void Launch(Accelerator accelerator, AcceleratorStream stream, ElementType elementType,
        in KeyConvShape shape, in KeyConvForwardArgs args)
    {
        if (shape.TotalK == 0) return;
        var kernel = KeyConvKernels.For(accelerator).Forward(elementType, shape.Width);
        kernel(stream, GridFor(shape, args.RunLength), args);
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
