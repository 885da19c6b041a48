using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// The MoBA router (DESIGN.md §4.1) on one accelerator: block centroids → fused gating + top-k →
/// key-block reindex, all enqueued on one stream into a <see cref="RoutingPlan"/>. Nothing is
/// synchronised or copied to the host; the plan's buffers are ready when the stream reaches them.
/// </summary>
internal sealed class Router
{
    private readonly KernelCache cache;

    /// <summary>A router using the kernels cached for <paramref name="accelerator"/>.</summary>
    public Router(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        cache = KernelCache.For(accelerator);
    }

    /// <summary>The accelerator the router runs on.</summary>
    public Accelerator Accelerator => cache.Accelerator;

    /// <summary>Allocates a plan for <paramref name="geometry"/> and builds it from <paramref name="q"/> and
    /// <paramref name="k"/>; the caller owns (disposes) the plan.</summary>
    /// <typeparam name="T"><see cref="Half"/> for fp16 or <see cref="BFloat16"/> for bf16, matching the geometry.</typeparam>
    public RoutingPlan Build<T>(AcceleratorStream stream, RoutingGeometry geometry, ArrayView<T> q, ArrayView<T> k)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(geometry);
        CheckInputs(geometry, q, k);
        var plan = RoutingPlan.Allocate(cache.Accelerator, geometry);
        try
        {
            Build(stream, plan, q, k);
            return plan;
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Rebuilds <paramref name="plan"/> in place from <paramref name="q"/> <c>[TotalQ, H, d]</c> and
    /// <paramref name="k"/> <c>[TotalK, Hk, d]</c>: centroids, then top-k, then the segment lists.
    /// Throws <see cref="ArgumentException"/> before any launch when a tensor does not match the plan.
    /// </summary>
    public void Build<T>(AcceleratorStream stream, RoutingPlan plan, ArrayView<T> q, ArrayView<T> k)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(plan);
        var geometry = plan.Geometry;
        CheckInputs(geometry, q, k);
        if (plan.Centroids.Accelerator != cache.Accelerator)
            throw new ArgumentException("plan must be allocated on the router's accelerator.", nameof(plan));

        var qPairs = q.Cast<uint>();
        var kPairs = k.Cast<uint>();
        BuildCentroids(stream, plan, kPairs);
        FlashTopK.Launch(cache, stream, plan, qPairs);
        KeyBlockIndex.Launch(cache, stream, plan);
    }

    /// <summary>Stage 1 alone (for timing): centroids of <paramref name="kPairs"/> into the plan.</summary>
    internal void BuildCentroids(AcceleratorStream stream, RoutingPlan plan, ArrayView<uint> kPairs)
        => BlockCentroids.Launch(cache, stream, plan.Geometry, kPairs, plan.CentroidPairs, plan.CuSeqlensK.View,
                                 plan.CuBlocks.View);

    /// <summary>Stage 2 alone (for timing): top-k from <paramref name="qPairs"/> and the plan's centroids.</summary>
    internal void BuildTopK(AcceleratorStream stream, RoutingPlan plan, ArrayView<uint> qPairs, bool sharedLists = false)
        => FlashTopK.Launch(cache, stream, plan, qPairs, sharedLists);

    /// <summary>The kernel cache the router launches through.</summary>
    internal KernelCache Kernels => cache;

    /// <summary>Stage 3 alone (for timing): segment lists from the plan's top-k.</summary>
    internal void BuildIndex(AcceleratorStream stream, RoutingPlan plan, bool globalScatter = false)
        => KeyBlockIndex.Launch(cache, stream, plan, globalScatter);

    private static void CheckInputs<T>(RoutingGeometry geometry, ArrayView<T> q, ArrayView<T> k)
        where T : unmanaged
    {
        var expected = geometry.ElementType == ElementType.BFloat16 ? typeof(BFloat16) : typeof(Half);
        if (typeof(T) != expected)
            throw new ArgumentException($"q must hold {expected.Name} values for {geometry.ElementType}.", nameof(q));
        long qLength = (long)geometry.TotalQ * geometry.Heads * geometry.HeadDim;
        long kLength = (long)geometry.TotalK * geometry.HeadsKv * geometry.HeadDim;
        if (q.Length != qLength)
            throw new ArgumentException($"q must have TotalQ × H × d = {qLength} elements, not {q.Length}.", nameof(q));
        if (k.Length != kLength)
            throw new ArgumentException($"k must have TotalK × Hk × d = {kLength} elements, not {k.Length}.", nameof(k));
        // The kernels read q and k in 16-byte vectors.
        if (q.Length > 0 && q.AlignTo16().Prefix.Length != 0)
            throw new ArgumentException("q must start at a 16-byte aligned address.", nameof(q));
        if (k.Length > 0 && k.AlignTo16().Prefix.Length != 0)
            throw new ArgumentException("k must start at a 16-byte aligned address.", nameof(k));
    }
}
