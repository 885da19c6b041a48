using FlashMoBA.Kernels.Primitives;
using ILGPU;

namespace FlashMoBA.PrimitivesCheck;

/// <summary>Arguments of the throughput kernels: random 16-bit tiles, a sink, an iteration count.</summary>
internal readonly struct ThroughputArgs(ArrayView<Chunk16> tiles, ArrayView<float> sink, int iterations)
{
    /// <summary>Q (128×128), K (64×128) and V (64×128) rows of 16-bit values, in that order.</summary>
    public readonly ArrayView<Chunk16> Tiles = tiles;

    /// <summary>One float per thread, so the compiler keeps the work.</summary>
    public readonly ArrayView<float> Sink = sink;

    /// <summary>Inner iterations per CTA.</summary>
    public readonly int Iterations = iterations;
}

/// <summary>
/// Throughput of the primitives on the GPU, without global-memory traffic in the loop: a ceiling for
/// kernels built from them (DESIGN.md §7 anchors the raw mma.sync rate at ≈ 648 TFLOP/s).
/// </summary>
internal static class BenchKernels
{
    /// <summary>Threads per CTA (8 warps, like the attention kernels).</summary>
    public const int Threads = 256;

    /// <summary>Key rows of the K/V tiles.</summary>
    public const int Keys = 64;

    /// <summary>Head dimension of the tiles.</summary>
    public const int HeadDim = 128;

    /// <summary>Chunks per tile row.</summary>
    public const int Chunks = HeadDim / Chunk16.Elements;

    /// <summary>Shared memory of the tile kernels, in chunks: Q, K, V.</summary>
    public const int SharedChunks = (128 + 2 * Keys) * Chunks;

    /// <summary>Eight independent m16n8k16 MMAs per iteration on register operands.</summary>
    internal static void MmaKernel<TElem>(ThroughputArgs args)
        where TElem : struct, IElementOps
    {
        uint seed = (uint)(Grid.GlobalIndex.X * 2654435761L);
        var a = new FragA16x16 { R0 = seed, R1 = seed ^ 0x3C003C00u, R2 = seed >> 3, R3 = 0x3C003C00u };
        var b = new FragB16x8 { R0 = seed ^ 0x00FF00FFu, R1 = 0x3C003C00u };
        var acc = default(Acc16x64F32);
        for (int i = 0; i < args.Iterations; i++)
        {
            var e = default(TElem);
            e.Mma(ref acc.N0, a, b);
            e.Mma(ref acc.N1, a, b);
            e.Mma(ref acc.N2, a, b);
            e.Mma(ref acc.N3, a, b);
            e.Mma(ref acc.N4, a, b);
            e.Mma(ref acc.N5, a, b);
            e.Mma(ref acc.N6, a, b);
            e.Mma(ref acc.N7, a, b);
        }
        acc.RowMax(out float lo, out float hi);
        args.Sink[Grid.GlobalIndex.X] = lo + hi;
    }

    /// <summary>
    /// The dense forward's inner step per warp and key tile at d = 128: S = Q·Kᵀ (Q fragments in
    /// registers, K via ldmatrix from a swizzled tile), optionally the online softmax, S → P in
    /// registers, O += P·V (V via ldmatrix.trans).
    /// </summary>
    internal static void TileKernel<TElem, TSoftmax>(ThroughputArgs args)
        where TElem : struct, IElementOps
        where TSoftmax : struct, ISoftmaxStep
    {
        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var tileQ = new SharedTile(0, Chunks);
        var tileK = new SharedTile(128 * Chunks, Chunks);
        var tileV = new SharedTile((128 + Keys) * Chunks, Chunks);
        TileCopy.GlobalToShared(args.Tiles, 0, Chunks, 128 + 2 * Keys, shared, tileQ, 128 + 2 * Keys, Group.IdxX, Threads);
        Group.Barrier();
        var q = default(FragA16x128);
        q.Load(words, new TileA(tileQ), Warp.WarpIdx * 16, 0);
        var o = default(Acc16x128F32);
        var softmax = OnlineSoftmax.Empty;
        for (int i = 0; i < args.Iterations; i++)
        {
            var s = default(Acc16x64F32);
            s.Mma<TElem, TransposedTileB>(q, words, new TransposedTileB(tileK), 0, 0);
            if (default(TSoftmax).Included) softmax.Rescale(ref s, ref o, 0.0625f, words);
            s.ToFragA<TElem>(out var p);
            o.Mma<TElem, TileB>(p, words, new TileB(tileV), 0, 0);
        }
        o.RowMax(out float lo, out float hi);
        args.Sink[Grid.GlobalIndex.X] = lo + hi + softmax.SumLo;
    }
}

/// <summary>Whether <see cref="BenchKernels.TileKernel{TElem, TSoftmax}"/> includes the online-softmax step.</summary>
internal interface ISoftmaxStep
{
    /// <summary>True to run <see cref="OnlineSoftmax.Rescale{TScores, TOutput}(ref TScores, ref TOutput, float, ArrayView{uint})"/>.</summary>
    bool Included { get; }
}

/// <summary>Matrix products only.</summary>
internal readonly struct WithoutSoftmax : ISoftmaxStep
{
    /// <inheritdoc/>
    public bool Included => false;
}

/// <summary>Matrix products and the online softmax.</summary>
internal readonly struct WithSoftmax : ISoftmaxStep
{
    /// <inheritdoc/>
    public bool Included => true;
}
