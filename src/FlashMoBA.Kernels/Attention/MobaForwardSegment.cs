using System.Runtime.CompilerServices;

namespace FlashMoBA.Kernels.Attention;

internal static partial class MobaForward
{
    /// <summary>
    /// What a forward CTA of either pass works on: its key block and query head, the segment of query
    /// rows that chose the block, and which of the segment's tiles are its part's — those starting at
    /// <see cref="FirstTile"/> and every <see cref="TileStride"/> rows after it.
    /// </summary>
    private readonly struct SegmentPart
    {
        public readonly MobaKeyBlock Block;
        public readonly int Head;
        public readonly int KvHead;
        public readonly int Segment;

        /// <summary>Query rows in the segment.</summary>
        public readonly int Count;
        public readonly int FirstTile;
        public readonly int TileStride;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public SegmentPart(in MobaForwardArgs args, int cta)
        {
            args.Locate(cta, out int launchSlot, out Head, out int part);
            Block = MobaKeyBlock.Load(args.Routing, args.Routing.LaunchOrder[launchSlot], args.BlockSize);
            KvHead = Head / (args.Heads / args.HeadsKv);
            Segment = Block.Block * args.Heads + Head;
            Count = args.Routing.SegmentCounts[Segment];
            FirstTile = part * BlockM;
            TileStride = args.Parts * BlockM;
        }

        /// <summary>A part past the end of its segment has no tiles.</summary>
        public bool IsEmpty => FirstTile >= Count;
    }
}
