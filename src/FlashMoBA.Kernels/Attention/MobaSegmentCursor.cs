using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Walks the query tiles a backward CTA processes: for each query head of its KV head's group in
/// turn, the tiles of <see cref="MobaBackward.BlockM"/> rows of that head's segment of the key block,
/// skipping empty segments. Flattening the two loops lets the kernel prefetch "the next tile" without
/// caring whether it belongs to the same head.
/// </summary>
internal readonly struct MobaSegmentCursor
{
    /// <summary>Index of the head inside the GQA group; the group size when the walk is over.</summary>
    public readonly int Member;

    /// <summary>Query head.</summary>
    public readonly int Head;

    /// <summary>First row of the tile inside the segment's list.</summary>
    public readonly int TileStart;

    /// <summary>Rows in the segment.</summary>
    public readonly int Count;

    /// <summary>Position of the segment's first row in the plan's row list.</summary>
    public readonly int RowsOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private MobaSegmentCursor(int member, int head, int tileStart, int count, int rowsOffset)
    {
        Member = member;
        Head = head;
        TileStart = tileStart;
        Count = count;
        RowsOffset = rowsOffset;
    }

    /// <summary>False once every tile has been walked.</summary>
    public bool Valid => TileStart < Count;

    /// <summary>Rows of this tile that exist (the rest are padding).</summary>
    public int ValidRows => IntrinsicMath.Min(MobaBackward.BlockM, Count - TileStart);

    /// <summary>The first tile of the group's first non-empty segment of <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MobaSegmentCursor First(in MobaBackwardArgs args, in MobaKeyBlock block, int kvHead) =>
        Seek(args, block, kvHead, 0);

    /// <summary>The tile after this one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MobaSegmentCursor Next(in MobaBackwardArgs args, in MobaKeyBlock block, int kvHead) =>
        TileStart + MobaBackward.BlockM < Count
            ? new MobaSegmentCursor(Member, Head, TileStart + MobaBackward.BlockM, Count, RowsOffset)
            : Seek(args, block, kvHead, Member + 1);

    /// <summary>The sequence-local query row of tile row <paramref name="row"/>, or −1 past the segment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LocalRow(in MobaBackwardArgs args, int row) =>
        TileStart + row < Count ? args.Routing.SegmentRows[RowsOffset + TileStart + row] : -1;

    private static MobaSegmentCursor Seek(in MobaBackwardArgs args, in MobaKeyBlock block, int kvHead, int member)
    {
        int groupSize = args.Heads / args.HeadsKv;
        for (; member < groupSize; member++)
        {
            int head = kvHead * groupSize + member;
            int segment = block.Block * args.Heads + head;
            int count = args.Routing.SegmentCounts[segment];
            if (count > 0)
                return new MobaSegmentCursor(member, head, 0, count, args.Routing.SegmentOffsets[segment]);
        }
        return new MobaSegmentCursor(groupSize, 0, 0, 0, 0);
    }
}
