using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The launch sequences of MoBA attention once a <see cref="RoutingPlan"/> holds the routing
/// (DESIGN.md §4.2–4.3), a few query heads at a time (<see cref="MobaHeadChunking"/>). Forward, per
/// group of heads: per-slot statistics → LSE merge; then per chunk of the group: zero the fp32
/// accumulator → normalised P·V with atomics → convert into the chunk's heads of the output. The
/// statistics and the accumulator take turns in one scratch region. Backward: D = rowsum(dO∘O) for all
/// heads, then per chunk of whole GQA groups: zero the fp32 dQ accumulator → per key tile dK, dV and dQ
/// atomics → convert dQ. Everything is enqueued on one stream; nothing synchronises. Arguments were
/// validated by the caller.
/// </summary>
internal static class MobaPasses
{
    /// <summary>
    /// Computes <paramref name="output"/> <c>[totalQ, H, d]</c> and <paramref name="lse"/> <c>[H, totalQ]</c>,
    /// with an fp32 accumulator of <paramref name="chunkHeads"/> query heads (a multiple of the group size).
    /// Each launch splits its segments into the parts <see cref="MobaHeadChunking.ForwardParts"/> chooses for
    /// <paramref name="multiprocessors"/> SMs, or into <paramref name="parts"/> when given.
    /// </summary>
    public static void Forward<T>(KernelCache cache, AcceleratorStream stream, RoutingPlan plan,
        ArrayView<int> launchOrder, float scale, ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, ArrayView<T> output,
        ArrayView<float> lse, MobaWorkspace workspace, int chunkHeads, int multiprocessors, int? parts = null,
        MobaStageMarkers? stages = null)
        where T : unmanaged
    {
        var g = plan.Geometry;
        var work = MobaHeadChunking.ForwardPlan(g.Heads, g.GroupSize, chunkHeads, MobaHeadChunking.StatsHeads(g, chunkHeads));
        var (region, _) = workspace.Get(stream, MobaHeadChunking.ForwardScratchFloats(g, work), 0);
        var routing = Views(plan, launchOrder);
        foreach (var (group, chunks) in work)
        {
            var slotStats = region.SubView(0, 2L * g.TotalQ * group.Count * g.TopK);
            int statsParts = parts ?? MobaHeadChunking.ForwardParts(g, group.Count,
                MobaHeadChunking.StatsCtasPerMultiprocessor, multiprocessors);
            if (g.TotalBlocks > 0 && g.TotalQ > 0)
                MobaForward.LaunchStats<T>(cache, stream,
                    Args(q, k, v, routing, lse, slotStats, region, g, scale, group, statsParts), g.HeadDim, g.TotalBlocks);
            stages?.Mark(stream, "forward.stats");
            // Reads every statistic of the group before the first chunk's zeroing overwrites them.
            MobaLseMerge.Launch(cache, stream,
                new MobaLseMerge.Args(plan.TopkIndex.View, slotStats, lse, g.TotalQ, g.Heads, g.TopK, group));
            stages?.Mark(stream, "forward.lse-merge");
            foreach (var chunk in chunks)
            {
                long accumulatorFloats = (long)g.TotalQ * chunk.Count * g.HeadDim;
                if (accumulatorFloats == 0) continue;
                var accumulator = region.SubView(0, accumulatorFloats);
                accumulator.MemSetToZero(stream);
                stages?.Mark(stream, "forward.zero");
                int outputParts = parts ?? MobaHeadChunking.ForwardParts(g, chunk.Count,
                    MobaHeadChunking.ForwardCtasPerMultiprocessor, multiprocessors);
                if (g.TotalBlocks > 0)
                    MobaForward.LaunchOutput<T>(cache, stream,
                        Args(q, k, v, routing, lse, region, accumulator, g, scale, chunk, outputParts), g.HeadDim, g.TotalBlocks);
                stages?.Mark(stream, "forward.output");
                MobaAccumulatorConvert.Launch(cache, stream, accumulator, output, g.Heads, g.HeadDim, chunk, 1f);
                stages?.Mark(stream, "forward.convert");
            }
        }
    }

    /// <summary>
    /// Computes <paramref name="dq"/> <c>[totalQ, H, d]</c>, <paramref name="dk"/> and <paramref name="dv"/>
    /// <c>[totalK, Hk, d]</c> from the forward's <paramref name="output"/> and <paramref name="lse"/>, with
    /// dQ accumulated for <paramref name="chunkHeads"/> query heads (whole groups) at a time.
    /// </summary>
    public static void Backward<T>(KernelCache cache, AcceleratorStream stream, RoutingPlan plan,
        ArrayView<int> launchOrder, float scale, ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, ArrayView<T> output,
        ArrayView<float> lse, ArrayView<T> dOut, ArrayView<T> dq, ArrayView<T> dk, ArrayView<T> dv,
        MobaWorkspace workspace, int chunkHeads, MobaStageMarkers? stages = null)
        where T : unmanaged
    {
        var g = plan.Geometry;
        var chunks = MobaHeadChunking.Split(g.Heads, g.GroupSize, chunkHeads);
        int largest = chunks.Max(c => c.Count);
        var (accumulatorSpace, delta) = workspace.Get(stream, (long)g.TotalQ * largest * g.HeadDim, (long)g.Heads * g.TotalQ);
        int chunksPerRow = g.HeadDim / Chunk16.Elements;
        MobaBackwardPreprocess.Launch<T>(cache, stream, new MobaBackwardPreprocess.Args(
            dOut.Cast<Chunk16>(), output.Cast<Chunk16>(), delta, g.TotalQ, g.Heads, chunksPerRow));
        stages?.Mark(stream, "backward.preprocess");
        foreach (var chunk in chunks)
        {
            long accumulatorFloats = (long)g.TotalQ * chunk.Count * g.HeadDim;
            var accumulator = accumulatorSpace.SubView(0, accumulatorFloats);
            if (accumulatorFloats > 0) accumulator.MemSetToZero(stream);
            stages?.Mark(stream, "backward.zero");
            if (g.TotalBlocks > 0)
            {
                var args = new MobaBackwardArgs(q.Cast<Chunk16>(), k.Cast<Chunk16>(), v.Cast<Chunk16>(), dOut.Cast<Chunk16>(),
                    Views(plan, launchOrder), lse, delta, accumulator, dk.Cast<uint>(), dv.Cast<uint>(), g.TotalQ, g.Heads,
                    g.HeadsKv, g.BlockSize, g.Causal ? 1 : 0, scale, scale * MobaScale.Log2E, chunk);
                MobaBackward.Launch<T>(cache, stream, args, g.HeadDim, g.TotalBlocks);
            }
            stages?.Mark(stream, "backward.main");
            if (accumulatorFloats > 0) MobaAccumulatorConvert.Launch(cache, stream, accumulator, dq, g.Heads, g.HeadDim, chunk, scale);
            stages?.Mark(stream, "backward.convert");
        }
    }

    /// <summary>
    /// The forward kernels' arguments for the heads <paramref name="heads"/>, each segment split into
    /// <paramref name="parts"/> CTAs. The statistics pass does not touch the accumulator nor the output pass
    /// the statistics: each gets the shared region for the other.
    /// </summary>
    private static MobaForwardArgs Args<T>(ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, MobaRoutingViews routing,
        ArrayView<float> lse, ArrayView<float> slotStats, ArrayView<float> accumulator, RoutingGeometry g, float scale,
        MobaHeadRange heads, int parts)
        where T : unmanaged =>
        new(q.Cast<Chunk16>(), k.Cast<Chunk16>(), v.Cast<Chunk16>(), routing, lse, slotStats, accumulator, g.TotalQ, g.Heads,
            g.HeadsKv, g.BlockSize, g.TopK, g.Causal ? 1 : 0, scale * MobaScale.Log2E, heads, parts);

    private static MobaRoutingViews Views(RoutingPlan plan, ArrayView<int> launchOrder) => new(
        plan.CuSeqlensQ.View, plan.CuSeqlensK.View, plan.CuBlocks.View, plan.BlockSequence.View, plan.TopkIndex.View,
        plan.SegmentOffsets.View, plan.SegmentCounts.View, plan.SegmentRows.View, launchOrder);
}
