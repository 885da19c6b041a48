using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Everything the dense backward main kernel reads and writes (DESIGN.md §3 layouts).</summary>
internal readonly struct DenseBackwardArgs(
    ArrayView<Chunk16> q, ArrayView<Chunk16> k, ArrayView<Chunk16> v, ArrayView<Chunk16> dOut,
    ArrayView<int> cuSeqlensQ, ArrayView<int> cuSeqlensK, ArrayView<float> lse, ArrayView<float> delta,
    ArrayView<float> dqAccumulator, ArrayView<uint> dk, ArrayView<uint> dv, int totalQ, int heads, int headsKv,
    int keyTiles, int causal, float scale, float scaleLog2)
{
    /// <summary>Queries <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> Q = q;

    /// <summary>Keys <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> K = k;

    /// <summary>Values <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> V = v;

    /// <summary>Output gradient <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> DOut = dOut;

    /// <summary>Query prefix sums <c>[batch + 1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensQ = cuSeqlensQ;

    /// <summary>Key prefix sums <c>[batch + 1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensK = cuSeqlensK;

    /// <summary>The forward's natural-log LSE <c>[Heads, totalQ]</c>.</summary>
    public readonly ArrayView<float> Lse = lse;

    /// <summary>D = rowsum(dO∘O) <c>[Heads, totalQ]</c>.</summary>
    public readonly ArrayView<float> Delta = delta;

    /// <summary>fp32 dQ accumulator <c>[totalQ, Heads, d]</c>, zeroed before the launch.</summary>
    public readonly GlobalAccumulator DQAccumulator = new(dqAccumulator);

    /// <summary>dK <c>[totalK, HeadsKv, d]</c> as packed 16-bit pairs.</summary>
    public readonly ArrayView<uint> DK = dk;

    /// <summary>dV <c>[totalK, HeadsKv, d]</c> as packed 16-bit pairs.</summary>
    public readonly ArrayView<uint> DV = dv;

    /// <summary>Query rows over the batch.</summary>
    public readonly int TotalQ = totalQ;

    /// <summary>Query heads H.</summary>
    public readonly int Heads = heads;

    /// <summary>KV heads Hk.</summary>
    public readonly int HeadsKv = headsKv;

    /// <summary>Key tiles of the longest sequence: <c>ceil(maxSeqlenK / BlockN)</c>.</summary>
    public readonly int KeyTiles = keyTiles;

    /// <summary>Bottom-right causal masking when 1.</summary>
    public readonly int Causal = causal;

    /// <summary>softmaxScale.</summary>
    public readonly float Scale = scale;

    /// <summary>softmaxScale · log2 e.</summary>
    public readonly float ScaleLog2 = scaleLog2;
}
