using ILGPU;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The device views of a <see cref="Routing.RoutingPlan"/> that the MoBA attention kernels read, plus
/// the order in which CTAs take the key blocks (<see cref="LaunchOrder"/>). Layouts are those of
/// <see cref="Routing.RoutingPlan"/>: segment <c>s = globalBlock · Heads + head</c> lists its
/// sequence-local query rows in ascending order.
/// </summary>
internal readonly struct MobaRoutingViews(
    ArrayView<int> cuSeqlensQ, ArrayView<int> cuSeqlensK, ArrayView<int> cuBlocks, ArrayView<int> blockSequence,
    ArrayView<int> topkIndex, ArrayView<int> segmentOffsets, ArrayView<int> segmentCounts,
    ArrayView<int> segmentRows, ArrayView<int> launchOrder)
{
    /// <summary>Query prefix sums <c>[batch+1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensQ = cuSeqlensQ;

    /// <summary>Key prefix sums <c>[batch+1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensK = cuSeqlensK;

    /// <summary>Key-block prefix sums <c>[batch+1]</c>.</summary>
    public readonly ArrayView<int> CuBlocks = cuBlocks;

    /// <summary>Sequence of each global block <c>[totalBlocks]</c>.</summary>
    public readonly ArrayView<int> BlockSequence = blockSequence;

    /// <summary>Selections <c>[totalQ, H, topK]</c>, sequence-local block indices, −1 unused.</summary>
    public readonly ArrayView<int> TopkIndex = topkIndex;

    /// <summary>Segment offsets <c>[segments + 1]</c>.</summary>
    public readonly ArrayView<int> SegmentOffsets = segmentOffsets;

    /// <summary>Segment row counts <c>[segments]</c>.</summary>
    public readonly ArrayView<int> SegmentCounts = segmentCounts;

    /// <summary>Rows of all segments, ascending within each.</summary>
    public readonly ArrayView<int> SegmentRows = segmentRows;

    /// <summary>Global key blocks in the order CTAs take them <c>[totalBlocks]</c> (see <see cref="MobaLaunchOrder"/>).</summary>
    public readonly ArrayView<int> LaunchOrder = launchOrder;
}
