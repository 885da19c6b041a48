using FlashMoBA.Kernels.Routing;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// How many query heads one launch of the MoBA attention passes covers. The forward's fp32 output
/// accumulator and per-slot statistics, and the backward's fp32 dQ accumulator, are sized for one
/// chunk of heads instead of all H, and the passes run chunk after chunk. Chunks are whole GQA groups
/// (a KV head's query heads: the backward CTA of a KV head walks all of them). Small chunks save memory;
/// large chunks keep the GPU busy — a launch of few CTAs ends on its slowest CTA with most SMs idle.
/// The automatic choice takes the largest chunk whose scratch stays within <see cref="WorkspaceBudget"/>
/// of the call's inputs and outputs, raised when needed so that every launch still has
/// <see cref="MinWaves"/> waves of CTAs.
/// </summary>
internal static class MobaHeadChunking
{
    /// <summary>Scratch the automatic choice allows, as a fraction of the bytes of the inputs and outputs.</summary>
    public const double WorkspaceBudget = 0.05;

    /// <summary>
    /// Waves of CTAs (<see cref="ForwardCtasPerMultiprocessor"/> or <see cref="BackwardCtasPerMultiprocessor"/>
    /// per SM) every launch should have. Fewer, and the launch's tail (the heavily selected first blocks of
    /// each sequence run longest) dominates. 3.5 rather than 4: 1024 key blocks per head (b = 2 at 64K
    /// tokens) make 3.9 waves on the H200's 132 SMs, which measures close to unchunked (moba-h200.md).
    /// </summary>
    public const double MinWaves = 3.5;

    /// <summary>CTAs of the forward output pass resident per SM (81 KB of shared memory each).</summary>
    public const int ForwardCtasPerMultiprocessor = 2;

    /// <summary>CTAs of the backward resident per SM (256 threads at ~170 registers).</summary>
    public const int BackwardCtasPerMultiprocessor = 1;

    /// <summary>
    /// Query heads per forward chunk: <paramref name="requested"/> (a multiple of the group size, capped at
    /// H) or the automatic choice for <paramref name="multiprocessors"/> SMs.
    /// </summary>
    public static int ForwardHeads(RoutingGeometry g, int elementBytes, int? requested, int multiprocessors)
    {
        if (requested is { } heads) return Math.Min(heads, g.Heads);
        long footprint = elementBytes * (2L * g.TotalQ * g.Heads + 2L * g.TotalK * g.HeadsKv) * g.HeadDim
            + 4L * g.TotalQ * g.Heads;
        long perHead = ForwardScratchFloats(g, 1) * 4;
        // One CTA per (key block, query head).
        long ctasPerGroup = (long)g.TotalBlocks * g.GroupSize;
        return Choose(g, footprint, perHead, ctasPerGroup, ForwardCtasPerMultiprocessor * (long)multiprocessors);
    }

    /// <summary>
    /// Query heads (whole groups) per backward chunk: <paramref name="requested"/> capped at H, or the
    /// automatic choice for <paramref name="multiprocessors"/> SMs.
    /// </summary>
    public static int BackwardHeads(RoutingGeometry g, int elementBytes, int? requested, int multiprocessors)
    {
        if (requested is { } heads) return Math.Min(heads, g.Heads);
        long footprint = elementBytes * (4L * g.TotalQ * g.Heads + 4L * g.TotalK * g.HeadsKv) * g.HeadDim
            + 8L * g.TotalQ * g.Heads;
        long perHead = 4L * g.TotalQ * g.HeadDim;
        // One CTA per (key block, KV head, key tile); a group of G query heads is one KV head.
        long ctasPerGroup = (long)g.TotalBlocks * ((g.BlockSize + MobaBackward.KeyTile - 1) / MobaBackward.KeyTile);
        return Choose(g, footprint, perHead, ctasPerGroup, BackwardCtasPerMultiprocessor * (long)multiprocessors);
    }

    /// <summary>
    /// Splits the H query heads into chunks of at most <paramref name="chunkHeads"/> (a multiple of the
    /// group size) that differ by at most one group, so that no launch is much smaller than the others.
    /// </summary>
    public static MobaHeadRange[] Split(int heads, int groupSize, int chunkHeads)
    {
        int groups = heads / groupSize;
        int chunkGroups = Math.Clamp(chunkHeads / groupSize, 1, groups);
        int chunks = (groups + chunkGroups - 1) / chunkGroups;
        var ranges = new MobaHeadRange[chunks];
        int first = 0;
        for (int c = 0; c < chunks; c++)
        {
            int count = (groups / chunks + (c < groups % chunks ? 1 : 0)) * groupSize;
            ranges[c] = new MobaHeadRange(first, count);
            first += count;
        }
        return ranges;
    }

    /// <summary>Floats of the forward scratch for chunks of <paramref name="chunkHeads"/> heads: accumulator, then slot statistics.</summary>
    public static long ForwardScratchFloats(RoutingGeometry g, int chunkHeads) =>
        Aligned((long)g.TotalQ * chunkHeads * g.HeadDim) + 2L * g.TotalQ * chunkHeads * g.TopK;

    /// <summary>The accumulator part of a scratch, rounded up so that what follows it is 16-byte aligned.</summary>
    public static long Aligned(long floats) => (floats + 3) / 4 * 4;

    /// <summary>The largest chunk of whole groups within the budget, raised to the wave floor, capped at H.</summary>
    private static int Choose(RoutingGeometry g, long footprintBytes, long scratchBytesPerHead, long ctasPerGroup,
        long ctasPerWave)
    {
        int groups = g.Heads / g.GroupSize;
        long perGroup = Math.Max(1, scratchBytesPerHead * g.GroupSize);
        long budgetGroups = (long)(WorkspaceBudget * footprintBytes / perGroup);
        long waveGroups = (long)Math.Ceiling(MinWaves * ctasPerWave / Math.Max(1, ctasPerGroup));
        long chosen = Math.Clamp(Math.Max(budgetGroups, waveGroups), 1, groups);
        return (int)chosen * g.GroupSize;
    }
}
