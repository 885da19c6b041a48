using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Where one MoBA key block lives, decoded once per CTA (the <see cref="SeqInfo"/> of its sequence and
/// its sequence-local key range), so that kernels never redo the varlen arithmetic.
/// </summary>
internal readonly struct MobaKeyBlock
{
    /// <summary>Global block index (over the batch).</summary>
    public readonly int Block;

    /// <summary>The block's sequence.</summary>
    public readonly SeqInfo Sequence;

    /// <summary>Block index inside its sequence (the value stored in <c>topkIndex</c>).</summary>
    public readonly int LocalBlock;

    /// <summary>First key of the block, sequence-local.</summary>
    public readonly int KeyStart;

    /// <summary>One past the last key of the block, sequence-local (a partial last block ends at Nk).</summary>
    public readonly int KeyEnd;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private MobaKeyBlock(int block, SeqInfo sequence, int localBlock, int blockSize)
    {
        Block = block;
        Sequence = sequence;
        LocalBlock = localBlock;
        KeyStart = localBlock * blockSize;
        KeyEnd = IntrinsicMath.Min(KeyStart + blockSize, sequence.LenK);
    }

    /// <summary>Decodes global block <paramref name="block"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static MobaKeyBlock Load(in MobaRoutingViews routing, int block, int blockSize)
    {
        int sequence = routing.BlockSequence[block];
        var info = SeqInfo.Load(routing.CuSeqlensQ, routing.CuSeqlensK, sequence);
        return new MobaKeyBlock(block, info, block - routing.CuBlocks[sequence], blockSize);
    }

    /// <summary>
    /// The last key of this block that sequence-local query row <paramref name="localRow"/> sees: its
    /// causal limit (bottom-right aligned) or the block's end, whichever comes first; below
    /// <see cref="KeyStart"/> when the row sees none of the block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LastVisibleKey(int localRow, bool causal) =>
        IntrinsicMath.Min(Sequence.LastKey(localRow, causal), KeyEnd - 1);
}
