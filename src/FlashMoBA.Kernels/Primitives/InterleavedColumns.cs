using System.Runtime.CompilerServices;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Column order of the fp32 accumulators that warps reduce MMA tiles into straight from registers (the dense dQ,
/// the MoBA output and dQ).
/// In the m16n8k16 accumulator layout lane t of a quad holds columns 2t and 2t + 1 of every 8-column tile, so in
/// plain order its values are 8-byte pairs 8 columns apart. Here each group of <see cref="Group"/> columns is stored
/// so that tile 2i's pair and tile 2i + 1's pair of a lane sit side by side at positions 4t .. 4t + 3: one 16-byte
/// reduction per lane, row and group, with no shared-memory transpose. The pass that rounds the accumulator to 16
/// bits puts the columns back in order.
/// </summary>
internal static class InterleavedColumns
{
    /// <summary>Columns per interleaved group (two 8-column MMA tiles); row lengths must be multiples of it.</summary>
    public const int Group = 16;

    /// <summary>The column stored at <paramref name="position"/> (any non-negative column index; groups repeat).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ColumnAt(int position)
    {
        int inGroup = position % Group;
        return position - inGroup + 2 * (inGroup / 4) + (inGroup & 1) + 8 * ((inGroup >> 1) & 1);
    }

    /// <summary>The first of the two column pairs that a group of four stored values (index <paramref name="quad"/>
    /// counted from a group start) holds: pair <c>quad % 4</c> of the group; the second is 4 pairs further on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long FirstPair(long quad)
    {
        long inGroup = quad & 3;
        return 2 * (quad - inGroup) + inGroup;
    }
}
