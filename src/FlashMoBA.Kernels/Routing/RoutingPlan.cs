using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Device buffers of one routing (DESIGN.md §4.1), filled by <see cref="Router"/> and read by the MoBA
/// forward and backward kernels; reusable for any number of builds with the same geometry.
/// <para>Notation: sequence <c>b</c> has <c>Nq = CuSeqlensQ[b+1] − CuSeqlensQ[b]</c> query rows and
/// <c>n_b = ceil(Nk / B)</c> key blocks; its block <c>j</c> is global block <c>g = CuBlocks[b] + j</c> and
/// holds keys <c>[CuSeqlensK[b] + jB, CuSeqlensK[b] + min((j+1)B, Nk))</c>. A segment is one
/// (global block <c>g</c>, query head <c>h</c>) pair with flat id <c>s = g × H + h</c>, so the
/// segments of a block (and the heads of a GQA group) are neighbours.</para>
/// <para>Buffers (all row-major, int32 unless stated):</para>
/// <list type="bullet">
/// <item><see cref="CuSeqlensQ"/>, <see cref="CuSeqlensK"/>, <see cref="CuBlocks"/>: <c>[batch+1]</c> prefix sums.</item>
/// <item><see cref="BlockSequence"/>: <c>[TotalBlocks]</c>, the sequence of global block <c>g</c>.</item>
/// <item><see cref="Centroids"/>: <c>[TotalBlocks, Hk, d]</c> in the input dtype's 16-bit pattern.</item>
/// <item><see cref="TopkIndex"/>: <c>[TotalQ, H, TopK]</c>, sequence-local block indices, −1 for unused
/// slots (always the trailing ones). Causal: slot 0 is the row's own block <c>p / B</c>
/// (<c>p = t + Nk − Nq</c>), rows with <c>p &lt; 0</c> are all −1.</item>
/// <item><see cref="SegmentOffsets"/>: <c>[Segments + 1]</c>, exclusive prefix sums of the counts;
/// <c>SegmentOffsets[Segments]</c> is the total number of (row, head, block) selections.</item>
/// <item><see cref="SegmentCounts"/>: <c>[Segments]</c>, rows that selected the segment's block.</item>
/// <item><see cref="SegmentRows"/>: <c>[SelectionCapacity]</c>, of which the first
/// <c>SegmentOffsets[Segments]</c> are valid: segment <c>s</c>'s rows are
/// <c>SegmentRows[SegmentOffsets[s] .. SegmentOffsets[s] + SegmentCounts[s])</c>, sequence-local query
/// rows (add <c>CuSeqlensQ[b]</c> for the global row) in strictly ascending order. Each
/// (row, head, selected block) appears exactly once; an empty segment has count 0 and the offset of
/// the next. Causal: block <c>j</c> is the own block of exactly the rows
/// <c>t ∈ [jB − (Nk − Nq), (j+1)B − (Nk − Nq)) ∩ [0, Nq)</c>, which always select it and precede every
/// later row that chose it, so the keys-after-p mask applies only to that prefix of each list.</item>
/// </list>
/// </summary>
internal sealed class RoutingPlan : IDisposable
{
    private RoutingPlan(Accelerator accelerator, RoutingGeometry geometry, long scanTempElements)
    {
        Geometry = geometry;
        CuSeqlensQ = accelerator.Allocate1D(geometry.CuSeqlensQ);
        CuSeqlensK = accelerator.Allocate1D(geometry.CuSeqlensK);
        CuBlocks = accelerator.Allocate1D(geometry.CuBlocks);
        CuTopKTiles = accelerator.Allocate1D(geometry.CuTopKTiles);
        TopKTileOrder = accelerator.Allocate1D(geometry.TopKTileOrder.Length == 0 ? [0] : geometry.TopKTileOrder);
        BlockSequence = accelerator.Allocate1D(BuildBlockSequence(geometry));
        Centroids = accelerator.Allocate1D<ushort>(Math.Max(2L, (long)geometry.TotalBlocks * geometry.HeadsKv * geometry.HeadDim));
        TopkIndex = accelerator.Allocate1D<int>(Math.Max(1L, (long)geometry.TotalQ * geometry.Heads * geometry.TopK));
        SegmentOffsets = accelerator.Allocate1D<int>(geometry.Segments + 1L);
        SegmentCounts = accelerator.Allocate1D<int>(Math.Max(1, geometry.Segments));
        SegmentRows = accelerator.Allocate1D<int>(Math.Max(1L, geometry.SelectionCapacity));
        ChunkCursors = accelerator.Allocate1D<int>(Math.Max(1L, geometry.ChunkCells));
        ChunkScratch = accelerator.Allocate1D<int>(Math.Max(1L, geometry.ChunkCells));
        ScanTemp = accelerator.Allocate1D<int>(Math.Max(1L, scanTempElements));
    }

    /// <summary>Sizes and parameters the buffers were allocated for.</summary>
    public RoutingGeometry Geometry { get; }

    /// <summary>Query prefix sums <c>[batch+1]</c>.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> CuSeqlensQ { get; }

    /// <summary>Key prefix sums <c>[batch+1]</c>.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> CuSeqlensK { get; }

    /// <summary>Key-block prefix sums <c>[batch+1]</c>.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> CuBlocks { get; }

    /// <summary>Prefix sums of <see cref="FlashTopK"/> query tiles <c>[batch+1]</c> (its grid).</summary>
    internal MemoryBuffer1D<int, Stride1D.Dense> CuTopKTiles { get; }

    /// <summary>Query tiles in <see cref="FlashTopK"/>'s launch order <c>[TopKTiles]</c>.</summary>
    internal MemoryBuffer1D<int, Stride1D.Dense> TopKTileOrder { get; }

    /// <summary>Sequence of each global block <c>[TotalBlocks]</c>.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> BlockSequence { get; }

    /// <summary>Centroids <c>[TotalBlocks, Hk, d]</c>, raw 16-bit values of <see cref="RoutingGeometry.ElementType"/>;
    /// view them typed with <see cref="CentroidsAs{T}"/>.</summary>
    public MemoryBuffer1D<ushort, Stride1D.Dense> Centroids { get; }

    /// <summary>Selections <c>[TotalQ, H, TopK]</c>.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> TopkIndex { get; }

    /// <summary>Segment offsets <c>[Segments + 1]</c>.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> SegmentOffsets { get; }

    /// <summary>Segment row counts <c>[Segments]</c>.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> SegmentCounts { get; }

    /// <summary>Rows of all segments, grouped by segment, ascending within one.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> SegmentRows { get; }

    /// <summary>Reindex scratch: per (segment, chunk) write cursors.</summary>
    internal MemoryBuffer1D<int, Stride1D.Dense> ChunkCursors { get; }

    /// <summary>Reindex scratch: per (segment, chunk) counts, then lane masks.</summary>
    internal MemoryBuffer1D<int, Stride1D.Dense> ChunkScratch { get; }

    /// <summary>Temporary storage of the reindex scan.</summary>
    internal MemoryBuffer1D<int, Stride1D.Dense> ScanTemp { get; }

    /// <summary>Device bytes owned by this plan.</summary>
    public long DeviceBytes => CuSeqlensQ.LengthInBytes + CuSeqlensK.LengthInBytes + CuBlocks.LengthInBytes
        + CuTopKTiles.LengthInBytes + TopKTileOrder.LengthInBytes + BlockSequence.LengthInBytes + Centroids.LengthInBytes + TopkIndex.LengthInBytes
        + SegmentOffsets.LengthInBytes + SegmentCounts.LengthInBytes + SegmentRows.LengthInBytes
        + ChunkCursors.LengthInBytes + ChunkScratch.LengthInBytes + ScanTemp.LengthInBytes;

    /// <summary>Allocates every buffer of a plan for <paramref name="geometry"/> on <paramref name="accelerator"/>.</summary>
    public static RoutingPlan Allocate(Accelerator accelerator, RoutingGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(geometry);
        return new RoutingPlan(accelerator, geometry,
                               KeyBlockIndex.ScanTempElements(geometry.ChunkCells));
    }

    /// <summary>The centroids viewed as <typeparamref name="T"/> (<see cref="ILGPU.Half"/> or <see cref="BFloat16"/>).</summary>
    public ArrayView<T> CentroidsAs<T>()
        where T : unmanaged
        => Centroids.View.AsContiguous().Cast<T>();

    /// <summary>The centroids as packed 16-bit pairs <c>[TotalBlocks, Hk, d / 2]</c>, the kernels' view.</summary>
    internal ArrayView<uint> CentroidPairs => Centroids.View.AsContiguous().Cast<uint>();

    /// <summary>Copies every result buffer to the host (synchronises the stream). Call after a build.</summary>
    public RoutingPlanSnapshot CopyToHost(AcceleratorStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var g = Geometry;
        var offsets = Read(stream, SegmentOffsets, g.Segments + 1L);
        if (offsets[^1] < 0 || offsets[^1] > SegmentRows.Length)
            throw new InvalidOperationException("The plan holds no reindexed routing yet: build it before copying.");
        return new RoutingPlanSnapshot(
            g,
            Read(stream, CuBlocks, g.Batch + 1L),
            Read(stream, BlockSequence, g.TotalBlocks),
            Read(stream, Centroids, (long)g.TotalBlocks * g.HeadsKv * g.HeadDim),
            Read(stream, TopkIndex, (long)g.TotalQ * g.Heads * g.TopK),
            offsets,
            Read(stream, SegmentCounts, g.Segments),
            Read(stream, SegmentRows, offsets[^1]));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        CuSeqlensQ.Dispose();
        CuSeqlensK.Dispose();
        CuBlocks.Dispose();
        CuTopKTiles.Dispose();
        TopKTileOrder.Dispose();
        BlockSequence.Dispose();
        Centroids.Dispose();
        TopkIndex.Dispose();
        SegmentOffsets.Dispose();
        SegmentCounts.Dispose();
        SegmentRows.Dispose();
        ChunkCursors.Dispose();
        ChunkScratch.Dispose();
        ScanTemp.Dispose();
    }

    private static T[] Read<T>(AcceleratorStream stream, MemoryBuffer1D<T, Stride1D.Dense> buffer, long length)
        where T : unmanaged
    {
        var host = new T[length];
        if (length > 0)
        {
            buffer.View.SubView(0, length).CopyToCPU(stream, host);
            stream.Synchronize();
        }
        return host;
    }

    private static int[] BuildBlockSequence(RoutingGeometry geometry)
    {
        var sequence = new int[Math.Max(1, geometry.TotalBlocks)];
        for (int b = 0; b < geometry.Batch; b++)
        {
            for (int g = geometry.CuBlocks[b]; g < geometry.CuBlocks[b + 1]; g++)
                sequence[g] = b;
        }
        return sequence;
    }
}

/// <summary>Host copy of a <see cref="RoutingPlan"/>'s results (same layouts; <see cref="SegmentRows"/>
/// holds only the valid prefix).</summary>
/// <param name="Geometry">The plan's geometry.</param>
/// <param name="CuBlocks">Key-block prefix sums <c>[batch+1]</c>.</param>
/// <param name="BlockSequence">Sequence of each global block <c>[TotalBlocks]</c>.</param>
/// <param name="CentroidBits">Centroids <c>[TotalBlocks, Hk, d]</c> as raw 16-bit patterns.</param>
/// <param name="TopkIndex">Selections <c>[TotalQ, H, TopK]</c>.</param>
/// <param name="SegmentOffsets">Segment offsets <c>[Segments + 1]</c>.</param>
/// <param name="SegmentCounts">Segment counts <c>[Segments]</c>.</param>
/// <param name="SegmentRows">Rows of all segments (valid prefix only).</param>
internal sealed record RoutingPlanSnapshot(
    RoutingGeometry Geometry, int[] CuBlocks, int[] BlockSequence, ushort[] CentroidBits, int[] TopkIndex,
    int[] SegmentOffsets, int[] SegmentCounts, int[] SegmentRows)
{
    /// <summary>Centroids widened to float according to the element type.</summary>
    public float[] CentroidsAsFloat()
    {
        var values = new float[CentroidBits.Length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Geometry.ElementType == ElementType.BFloat16
                ? new BFloat16(CentroidBits[i]).ToFloat()
                : (float)BitConverter.UInt16BitsToHalf(CentroidBits[i]);
        }
        return values;
    }
}
