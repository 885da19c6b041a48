using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dynamic shared memory of a MoBA forward CTA, in 16-byte chunks: the staged keys
/// (<see cref="MobaForward.ResidentKeys"/> rows), the staged values (pass 2 only), the gathered
/// query tile (<see cref="MobaForward.BlockM"/> rows) and the row table. At d = 128, pass 2 takes
/// 32 + 32 + 16 KB + 1.3 KB: two CTAs per SM.
/// </summary>
internal readonly struct MobaForwardLayout
{
    /// <summary>16-byte chunks per row of q, k and v (d / 8).</summary>
    public readonly int ChunksPerRow;

    /// <summary>Staged keys [ResidentKeys][d].</summary>
    public readonly SharedTile Keys;

    /// <summary>Staged values [ResidentKeys][d] (aliases <see cref="Keys"/> when there are none).</summary>
    public readonly SharedTile Values;

    /// <summary>Gathered queries [BlockM][d].</summary>
    public readonly SharedTile Queries;

    /// <summary>First word of the row table.</summary>
    public readonly int RowTableWord;

    /// <summary>The layout for rows of <paramref name="chunksPerRow"/> chunks, with or without values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MobaForwardLayout(int chunksPerRow, bool withValues)
    {
        ChunksPerRow = chunksPerRow;
        int tileChunks = MobaForward.ResidentKeys * chunksPerRow;
        Keys = new SharedTile(0, chunksPerRow);
        Values = new SharedTile(withValues ? tileChunks : 0, chunksPerRow);
        int queryChunk = withValues ? 2 * tileChunks : tileChunks;
        Queries = new SharedTile(queryChunk, chunksPerRow);
        RowTableWord = (queryChunk + MobaForward.BlockM * chunksPerRow) * 4;
    }

    /// <summary>The row table of the query tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MobaRowTable Rows(ArrayView<uint> words) => new(words, RowTableWord, MobaForward.BlockM);

    /// <summary>Dynamic shared memory in 16-byte chunks for head dim <paramref name="headDim"/>.</summary>
    public static int SharedChunks(int headDim, bool withValues)
    {
        int chunksPerRow = headDim / Chunk16.Elements;
        int tiles = ((withValues ? 2 : 1) * MobaForward.ResidentKeys + MobaForward.BlockM) * chunksPerRow;
        return tiles + (MobaForward.BlockM * MobaRowTable.WordsPerRow + 3) / 4;
    }
}
