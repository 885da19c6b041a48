using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Everything the MoBA backward kernel reads and writes (DESIGN.md §3 layouts).</summary>
internal readonly struct MobaBackwardArgs(
    ArrayView<Chunk16> q, ArrayView<Chunk16> k, ArrayView<Chunk16> v, ArrayView<Chunk16> dOut,
    MobaRoutingViews routing, ArrayView<float> lse, ArrayView<float> delta, ArrayView<float> dqAccumulator,
    ArrayView<uint> dk, ArrayView<uint> dv, int totalQ, int heads, int headsKv, int blockSize, int causal,
    float scale, float scaleLog2, MobaHeadRange chunk)
{
    /// <summary>Queries <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> Q = q;

    /// <summary>Keys <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> K = k;

    /// <summary>Values <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> V = v;

    /// <summary>Output gradient <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> DOut = dOut;

    /// <summary>The routing plan and launch order.</summary>
    public readonly MobaRoutingViews Routing = routing;

    /// <summary>Natural-log LSE of the forward <c>[Heads, totalQ]</c>.</summary>
    public readonly ArrayView<float> Lse = lse;

    /// <summary>D = rowsum(dO∘O) <c>[Heads, totalQ]</c>.</summary>
    public readonly ArrayView<float> Delta = delta;

    /// <summary>fp32 dQ accumulator <c>[totalQ, Chunk.Count, d]</c> of the chunk's heads, zeroed before the launch.</summary>
    public readonly GlobalAccumulator DQAccumulator = new(dqAccumulator);

    /// <summary>dK <c>[totalK, HeadsKv, d]</c> as packed 16-bit pairs; every element is written.</summary>
    public readonly ArrayView<uint> DK = dk;

    /// <summary>dV <c>[totalK, HeadsKv, d]</c> as packed 16-bit pairs; every element is written.</summary>
    public readonly ArrayView<uint> DV = dv;

    /// <summary>Query rows over the batch.</summary>
    public readonly int TotalQ = totalQ;

    /// <summary>Query heads H.</summary>
    public readonly int Heads = heads;

    /// <summary>KV heads Hk.</summary>
    public readonly int HeadsKv = headsKv;

    /// <summary>MoBA block size B.</summary>
    public readonly int BlockSize = blockSize;

    /// <summary>Bottom-right causal masking when 1 (an int: kernel arguments must be blittable).</summary>
    public readonly int Causal = causal;

    /// <summary>softmaxScale.</summary>
    public readonly float Scale = scale;

    /// <summary>softmaxScale · log2 e.</summary>
    public readonly float ScaleLog2 = scaleLog2;

    /// <summary>
    /// The query heads this launch works on: whole GQA groups, i.e. the KV heads
    /// <c>[Chunk.First / G, (Chunk.First + Chunk.Count) / G)</c> with <c>G = Heads / HeadsKv</c>.
    /// </summary>
    public readonly MobaHeadRange Chunk = chunk;

    /// <summary>First KV head of the chunk.</summary>
    public int FirstKvHead => Chunk.First / (Heads / HeadsKv);

    /// <summary>KV heads in the chunk.</summary>
    public int KvHeadCount => Chunk.Count / (Heads / HeadsKv);
}
