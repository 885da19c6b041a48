using System.Runtime.CompilerServices;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Where a chunk of a gathered query tile comes from: tile chunk <c>index</c> is column chunk
/// <c>index % chunksPerRow</c> of its row, and the row is sequence-local query row <c>localRow</c> of
/// head <c>head</c> in <c>[totalQ, H, d]</c> (q, and dO in the backward: same layout). Used by the
/// kernels that stage the next tile's chunks in registers (<c>TileStage</c>).
/// </summary>
internal static class MobaGatheredChunk
{
    /// <summary>Global 16-byte chunk index of tile chunk <paramref name="index"/>; −1 for a padding row (<paramref name="localRow"/> &lt; 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Address(int localRow, int queryStart, int heads, int head, int chunksPerRow, int index) =>
        localRow < 0 ? -1 : ((long)(queryStart + localRow) * heads + head) * chunksPerRow + index % chunksPerRow;
}
