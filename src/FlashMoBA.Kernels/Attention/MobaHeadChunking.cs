using FlashMoBA.Kernels.Routing;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// How many query heads one launch of the MoBA attention passes covers. The forward's fp32 output
/// accumulator and the backward's fp32 dQ accumulator are sized for one chunk of heads instead of all
/// H, and the passes run chunk after chunk. Chunks are whole GQA groups (a KV head's query heads: the
/// backward CTA of a KV head walks all of them). Small chunks save memory; large chunks keep the GPU
/// busy — a launch of few CTAs ends on its slowest CTA (the heavily selected first blocks of each
/// sequence run longest) with most SMs idle. The automatic choice takes the largest chunk whose scratch
/// stays within <see cref="WorkspaceBudget"/> of the call's inputs and outputs, raised when needed so
/// that every launch still has <see cref="MinWaves"/> waves of CTAs.
/// <para>The forward reaches the waves first by splitting each segment's query tiles over up to
/// <see cref="MaxForwardParts"/> CTAs (<see cref="ForwardParts"/>), and raises the chunk only beyond that:
/// a part re-reads its block's keys and values (from L2: a segment's parts are launched side by side),
/// so a launch that has its waves without parts gets none.</para>
/// <para>The forward's per-slot statistics (2·topK floats per row and head) are dead once the LSE merge
/// has read them, before the accumulator is zeroed, so they live in the accumulator's space: one
/// statistics pass covers a group of <see cref="StatsHeads"/> heads (d / (2·topK) chunks: 8 at
/// d = 128, topK = 8), which keeps that pass's launches as large as the memory allows at no extra cost.</para>
/// </summary>
internal static class MobaHeadChunking
{
    /// <summary>Scratch the automatic choice allows, as a fraction of the bytes of the inputs and outputs.</summary>
    public const double WorkspaceBudget = 0.05;

    /// <summary>
    /// Waves of CTAs (<see cref="ForwardCtasPerMultiprocessor"/> or <see cref="BackwardCtasPerMultiprocessor"/>
    /// per SM) every launch should have. Measured on the H200 (moba-h200.md, b = 2, H = 16, d = 128,
    /// B = 128, topK = 8): the output pass over 1024 CTAs (3.9 waves: 1 head at 64K, 8 heads at 8K) runs
    /// no slower than over all heads at once; over 256 CTAs (1 wave: 2 heads at 8K) it takes 2.1×.
    /// </summary>
    public const double MinWaves = 3.5;

    /// <summary>CTAs of the forward output pass resident per SM (81 KB of shared memory each).</summary>
    public const int ForwardCtasPerMultiprocessor = 2;

    /// <summary>CTAs of the forward statistics pass resident per SM (128 threads at ≤ 128 registers, 49 KB of shared memory).</summary>
    public const int StatsCtasPerMultiprocessor = 4;

    /// <summary>
    /// Most CTAs one forward segment's query tiles are split over. A segment of the benchmark shape holds
    /// about topK·B / <see cref="MobaForward.BlockM"/> = 16 tiles on average, so 8 parts still give each CTA
    /// two tiles for one load of the block's keys and values.
    /// </summary>
    public const int MaxForwardParts = 8;

    /// <summary>CTAs of the backward resident per SM (256 threads at 168–220 registers).</summary>
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
        // The statistics share the accumulator's space (see StatsHeads).
        long perHead = 4L * g.TotalQ * g.HeadDim;
        // One CTA per (key block, query head, part): the chunk is raised for the waves only when
        // MaxForwardParts parts do not reach them.
        long ctasPerGroup = (long)g.TotalBlocks * g.GroupSize * MaxForwardParts;
        return Choose(g, footprint, perHead, ctasPerGroup, ForwardCtasPerMultiprocessor * (long)multiprocessors);
    }

    /// <summary>
    /// Parts per segment for a forward launch over <paramref name="heads"/> query heads with
    /// <paramref name="ctasPerMultiprocessor"/> resident CTAs per SM (<see cref="StatsCtasPerMultiprocessor"/> or
    /// <see cref="ForwardCtasPerMultiprocessor"/>): the fewest that give the launch <see cref="MinWaves"/> waves,
    /// at most <see cref="MaxForwardParts"/>; 1 when the heads alone suffice.
    /// </summary>
    public static int ForwardParts(RoutingGeometry g, int heads, int ctasPerMultiprocessor, int multiprocessors)
    {
        long ctas = Math.Max(1, (long)g.TotalBlocks * heads);
        long needed = (long)Math.Ceiling(MinWaves * ctasPerMultiprocessor * multiprocessors / ctas);
        return (int)Math.Clamp(needed, 1, MaxForwardParts);
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

    /// <summary>
    /// Query heads whose per-slot statistics (<c>[totalQ, heads, topK, 2]</c>) fit in the space of the
    /// accumulator of <paramref name="chunkHeads"/> heads (<c>[totalQ, chunkHeads, d]</c>): chunkHeads times
    /// d / (2·topK), at least chunkHeads, at most H.
    /// </summary>
    public static int StatsHeads(RoutingGeometry g, int chunkHeads) =>
        (int)Math.Min(g.Heads, (long)chunkHeads * Math.Max(1, g.HeadDim / (2 * g.TopK)));

    /// <summary>
    /// The forward's order of work: groups of at most <paramref name="statsHeads"/> heads (one statistics
    /// pass and LSE merge each), each split into chunks of at most <paramref name="chunkHeads"/> heads (one
    /// zero, output pass and conversion each). <paramref name="statsHeads"/> is a multiple of
    /// <paramref name="chunkHeads"/>, both of <paramref name="groupSize"/>.
    /// </summary>
    public static (MobaHeadRange Group, MobaHeadRange[] Chunks)[] ForwardPlan(int heads, int groupSize, int chunkHeads,
        int statsHeads) =>
        Array.ConvertAll(Split(heads, groupSize, statsHeads), group => (group,
            Array.ConvertAll(Split(group.Count, groupSize, chunkHeads), c => new MobaHeadRange(group.First + c.First, c.Count))));

    /// <summary>
    /// Floats of the forward scratch for <paramref name="plan"/>: the largest chunk's accumulator or the
    /// largest group's statistics, whichever is larger (they take turns in the same space).
    /// </summary>
    public static long ForwardScratchFloats(RoutingGeometry g, (MobaHeadRange Group, MobaHeadRange[] Chunks)[] plan)
    {
        long floats = 0;
        foreach (var (group, chunks) in plan)
        {
            floats = Math.Max(floats, 2L * g.TotalQ * group.Count * g.TopK);
            foreach (var chunk in chunks) floats = Math.Max(floats, (long)g.TotalQ * chunk.Count * g.HeadDim);
        }
        return floats;
    }

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
