using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// The router's kernels compiled for one accelerator, each loaded on first use and kept; load once
/// per accelerator and reuse across plans (compilation costs far more than a launch).
/// </summary>
internal sealed class RoutingKernels
{
    private readonly Accelerator accelerator;
    private readonly Lazy<Action<AcceleratorStream, Index1D, BlockCentroids.Args<Half>>> centroidsHalf;
    private readonly Lazy<Action<AcceleratorStream, Index1D, BlockCentroids.Args<BFloat16>>> centroidsBFloat16;
    private readonly Lazy<Action<AcceleratorStream, Index1D, KeyBlockIndex.Args>> reindexCount;
    private readonly Lazy<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>,
        ArrayView<int>, int, int>> reindexSegmentTable;
    private readonly Lazy<Action<AcceleratorStream, KernelConfig, KeyBlockIndex.Args>> reindexScatter;
    private readonly Lazy<Scan<int, Stride1D.Dense, Stride1D.Dense>> exclusiveScan;

    /// <summary>Binds the cache to <paramref name="accelerator"/>; nothing is compiled yet.</summary>
    public RoutingKernels(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        this.accelerator = accelerator;
        centroidsHalf = new(() => BlockCentroids.Load<Half>(accelerator));
        centroidsBFloat16 = new(() => BlockCentroids.Load<BFloat16>(accelerator));
        reindexCount = new(() => KeyBlockIndex.LoadCount(accelerator));
        reindexSegmentTable = new(() => KeyBlockIndex.LoadSegmentTable(accelerator));
        reindexScatter = new(() => KeyBlockIndex.LoadScatter(accelerator));
        exclusiveScan = new(() => KeyBlockIndex.CreateScan(accelerator));
    }

    /// <summary>The accelerator the kernels are compiled for.</summary>
    public Accelerator Accelerator => accelerator;

    /// <summary>Centroid kernel for storage type <typeparamref name="T"/>.</summary>
    public Action<AcceleratorStream, Index1D, BlockCentroids.Args<T>> Centroids<T>()
        where T : unmanaged
    {
        if (typeof(T) == typeof(Half))
            return (Action<AcceleratorStream, Index1D, BlockCentroids.Args<T>>)(object)centroidsHalf.Value;
        if (typeof(T) == typeof(BFloat16))
            return (Action<AcceleratorStream, Index1D, BlockCentroids.Args<T>>)(object)centroidsBFloat16.Value;
        throw new ArgumentException($"element type {typeof(T).Name} is not fp16 or bf16.", nameof(T));
    }

    /// <summary>Reindex phase 1 (counts).</summary>
    public void ReindexCount(AcceleratorStream stream, Index1D extent, KeyBlockIndex.Args args)
        => reindexCount.Value(stream, extent, args);

    /// <summary>Reindex phase 3 (segment offsets and counts).</summary>
    public void ReindexSegmentTable(AcceleratorStream stream, Index1D extent, ArrayView<int> scannedCells,
                                    ArrayView<int> lastCount, ArrayView<int> segmentOffsets,
                                    ArrayView<int> segmentCounts, int segments, int chunksPerSequence)
        => reindexSegmentTable.Value(stream, extent, scannedCells, lastCount, segmentOffsets, segmentCounts,
                                     segments, chunksPerSequence);

    /// <summary>Reindex phase 4 (ordered scatter).</summary>
    public void ReindexScatter(AcceleratorStream stream, KernelConfig config, KeyBlockIndex.Args args)
        => reindexScatter.Value(stream, config, args);

    /// <summary>Reindex phase 2: exclusive int32 scan (ILGPU.Algorithms).</summary>
    public void ExclusiveScan(AcceleratorStream stream, ArrayView<int> input, ArrayView<int> output,
                              ArrayView<int> temp)
        => exclusiveScan.Value(stream, input, output, temp);

    /// <summary>Temporary storage the exclusive scan needs for <paramref name="length"/> elements.</summary>
    public long ScanTempElements(long length) => accelerator.ComputeScanTempStorageSize<int>(length);
}
