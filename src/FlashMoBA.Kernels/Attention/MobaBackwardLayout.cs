using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dynamic shared memory of a MoBA backward CTA, in 16-byte chunks: the key tile and value tile
/// (<see cref="MobaBackward.KeyTile"/> rows each), the gathered q and dO tiles
/// (<see cref="MobaBackward.BlockM"/> rows each), P and dS (BlockM × KeyTile, 16-bit) and the row
/// table.
/// P and dS go through shared memory because dV = Pᵀ·dO, dK = dSᵀ·Q and dQ = dS·K need them
/// split across warps differently from how S was computed. At d = 128: 64 + 16 + 1.3 KB.
/// </summary>
internal readonly struct MobaBackwardLayout
{
    /// <summary>Staged keys [KeyTile][d].</summary>
    public readonly SharedTile Keys;

    /// <summary>Staged values [KeyTile][d].</summary>
    public readonly SharedTile Values;

    /// <summary>Gathered queries [BlockM][d].</summary>
    public readonly SharedTile Queries;

    /// <summary>Gathered output gradients [BlockM][d].</summary>
    public readonly SharedTile OutputGrads;

    /// <summary>Probabilities P [BlockM][KeyTile].</summary>
    public readonly SharedTile Probabilities;

    /// <summary>Score gradients dS [BlockM][KeyTile].</summary>
    public readonly SharedTile ScoreGrads;

    /// <summary>First word of the row table.</summary>
    public readonly int RowTableWord;

    /// <summary>The layout for rows of <paramref name="chunksPerRow"/> chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MobaBackwardLayout(int chunksPerRow)
    {
        int keyChunks = MobaBackward.KeyTile * chunksPerRow;
        int queryChunks = MobaBackward.BlockM * chunksPerRow;
        int scoreChunks = MobaBackward.BlockM * ScoreChunksPerRow;
        Keys = new SharedTile(0, chunksPerRow);
        Values = new SharedTile(keyChunks, chunksPerRow);
        Queries = new SharedTile(2 * keyChunks, chunksPerRow);
        OutputGrads = new SharedTile(2 * keyChunks + queryChunks, chunksPerRow);
        Probabilities = new SharedTile(2 * keyChunks + 2 * queryChunks, ScoreChunksPerRow);
        ScoreGrads = new SharedTile(2 * keyChunks + 2 * queryChunks + scoreChunks, ScoreChunksPerRow);
        RowTableWord = (2 * keyChunks + 2 * queryChunks + 2 * scoreChunks) * 4;
    }

    /// <summary>16-byte chunks per row of P and dS.</summary>
    public static int ScoreChunksPerRow => MobaBackward.KeyTile / Chunk16.Elements;

    /// <summary>The row table of the query tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MobaRowTable Rows(ArrayView<uint> words) => new(words, RowTableWord, MobaBackward.BlockM);

    /// <summary>Dynamic shared memory in 16-byte chunks for head dim <paramref name="headDim"/>.</summary>
    public static int SharedChunks(int headDim)
    {
        int chunksPerRow = headDim / Chunk16.Elements;
        int tiles = 2 * (MobaBackward.KeyTile + MobaBackward.BlockM) * chunksPerRow
            + 2 * MobaBackward.BlockM * ScoreChunksPerRow;
        return tiles + (MobaBackward.BlockM * MobaRowTable.WordsPerRow + 3) / 4;
    }
}
