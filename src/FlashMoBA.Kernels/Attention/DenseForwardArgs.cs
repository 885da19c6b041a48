using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Everything the dense forward kernel reads and writes (DESIGN.md §3 layouts).</summary>
internal readonly struct DenseForwardArgs(
    ArrayView<Chunk16> q, ArrayView<Chunk16> k, ArrayView<Chunk16> v, ArrayView<int> cuSeqlensQ,
    ArrayView<int> cuSeqlensK, ArrayView<uint> output, ArrayView<float> lse, int totalQ, int heads, int headsKv,
    int queryTiles, int causal, float scale, float scaleLog2)
{
    /// <summary>Queries <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> Q = q;

    /// <summary>Keys <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> K = k;

    /// <summary>Values <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> V = v;

    /// <summary>Query prefix sums <c>[batch + 1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensQ = cuSeqlensQ;

    /// <summary>Key prefix sums <c>[batch + 1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensK = cuSeqlensK;

    /// <summary>Output <c>[totalQ, Heads, d]</c> as packed 16-bit pairs.</summary>
    public readonly ArrayView<uint> Output = output;

    /// <summary>Natural-log LSE <c>[Heads, totalQ]</c>.</summary>
    public readonly ArrayView<float> Lse = lse;

    /// <summary>Query rows over the batch.</summary>
    public readonly int TotalQ = totalQ;

    /// <summary>Query heads H.</summary>
    public readonly int Heads = heads;

    /// <summary>KV heads Hk.</summary>
    public readonly int HeadsKv = headsKv;

    /// <summary>Query tiles of the longest sequence: <c>ceil(maxSeqlenQ / BlockM)</c>.</summary>
    public readonly int QueryTiles = queryTiles;

    /// <summary>Bottom-right causal masking when 1 (an int: kernel arguments must be blittable).</summary>
    public readonly int Causal = causal;

    /// <summary>softmaxScale.</summary>
    public readonly float Scale = scale;

    /// <summary>softmaxScale · log2 e, folded into one multiply before <c>ex2</c>.</summary>
    public readonly float ScaleLog2 = scaleLog2;
}
