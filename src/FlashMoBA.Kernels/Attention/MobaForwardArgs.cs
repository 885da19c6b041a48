using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Everything the MoBA forward kernels read and write (DESIGN.md §3 layouts).</summary>
internal readonly struct MobaForwardArgs(
    ArrayView<Chunk16> q, ArrayView<Chunk16> k, ArrayView<Chunk16> v, MobaRoutingViews routing,
    ArrayView<float> lse, ArrayView<float> slotStats, ArrayView<float> outputAccumulator,
    int totalQ, int heads, int headsKv, int blockSize, int topK, int causal, float scaleLog2, MobaHeadRange chunk, int parts)
{
    /// <summary>Queries <c>[totalQ, Heads, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> Q = q;

    /// <summary>Keys <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> K = k;

    /// <summary>Values <c>[totalK, HeadsKv, d]</c> as 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> V = v;

    /// <summary>The routing plan and launch order.</summary>
    public readonly MobaRoutingViews Routing = routing;

    /// <summary>Natural-log LSE <c>[Heads, totalQ]</c> (read by pass 2).</summary>
    public readonly ArrayView<float> Lse = lse;

    /// <summary>Per-slot statistics <c>[totalQ, Chunk.Count, TopK, 2]</c> of the chunk's heads (written by pass 1).</summary>
    public readonly ArrayView<float> SlotStats = slotStats;

    /// <summary>fp32 output accumulator <c>[totalQ, Chunk.Count, d]</c> of the chunk's heads, zeroed before pass 2.</summary>
    public readonly GlobalAccumulator OutputAccumulator = new(outputAccumulator);

    /// <summary>Query rows over the batch.</summary>
    public readonly int TotalQ = totalQ;

    /// <summary>Query heads H.</summary>
    public readonly int Heads = heads;

    /// <summary>KV heads Hk.</summary>
    public readonly int HeadsKv = headsKv;

    /// <summary>MoBA block size B.</summary>
    public readonly int BlockSize = blockSize;

    /// <summary>Slots per (row, head).</summary>
    public readonly int TopK = topK;

    /// <summary>Bottom-right causal masking when 1 (an int: kernel arguments must be blittable).</summary>
    public readonly int Causal = causal;

    /// <summary>softmaxScale · log2 e.</summary>
    public readonly float ScaleLog2 = scaleLog2;

    /// <summary>The query heads this launch works on; the grid covers (key block, chunk head, part) triples.</summary>
    public readonly MobaHeadRange Chunk = chunk;

    /// <summary>
    /// CTAs per segment (key block, head): part p takes the segment's query tiles p, p + Parts, p + 2·Parts, …
    /// (see <see cref="MobaHeadChunking.ForwardParts"/>). Each tile belongs to exactly one part, so the
    /// per-slot statistics and the output reductions do not depend on it.
    /// </summary>
    public readonly int Parts = parts;

    /// <summary>
    /// Decodes CTA <paramref name="cta"/> of a launch: the launch-order index of its key block, its query head
    /// and its part. The parts of a segment are neighbours in the grid, so they run together and share the
    /// block's keys and values in L2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Locate(int cta, out int launchSlot, out int head, out int part)
    {
        int pair = cta / Parts;
        part = cta - pair * Parts;
        launchSlot = pair / Chunk.Count;
        head = Chunk.First + pair - launchSlot * Chunk.Count;
    }
}
