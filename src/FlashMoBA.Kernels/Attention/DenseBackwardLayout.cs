using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dynamic shared memory of a dense backward CTA, in 16-byte chunks: the key and value tiles
/// (<see cref="DenseBackward.BlockN"/> rows each), the q and dO tiles (<see cref="DenseBackward.BlockM"/>
/// rows each), P and dS (BlockM × BlockN, 16-bit) and the row table (LSE, D, causal limit per row).
/// P and dS go through shared memory because dV = Pᵀ·dO, dK = dSᵀ·Q and dQ = dS·K split them across
/// warps differently from how S was computed. At d = 128: 64 + 16 + 1.3 KB.
/// </summary>
internal readonly struct DenseBackwardLayout
{
    /// <summary>Key tile [BlockN][d].</summary>
    public readonly SharedTile Keys;

    /// <summary>Value tile [BlockN][d].</summary>
    public readonly SharedTile Values;

    /// <summary>Query tile [BlockM][d].</summary>
    public readonly SharedTile Queries;

    /// <summary>Output-gradient tile [BlockM][d].</summary>
    public readonly SharedTile OutputGrads;

    /// <summary>Probabilities P [BlockM][BlockN].</summary>
    public readonly SharedTile Probabilities;

    /// <summary>Score gradients dS [BlockM][BlockN].</summary>
    public readonly SharedTile ScoreGrads;

    /// <summary>First word of the row table.</summary>
    public readonly int RowTableWord;

    /// <summary>The layout for rows of <paramref name="chunksPerRow"/> chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseBackwardLayout(int chunksPerRow)
    {
        int keyChunks = DenseBackward.BlockN * chunksPerRow;
        int queryChunks = DenseBackward.BlockM * chunksPerRow;
        int scoreChunks = DenseBackward.BlockM * ScoreChunksPerRow;
        Keys = new SharedTile(0, chunksPerRow);
        Values = new SharedTile(keyChunks, chunksPerRow);
        Queries = new SharedTile(2 * keyChunks, chunksPerRow);
        OutputGrads = new SharedTile(2 * keyChunks + queryChunks, chunksPerRow);
        Probabilities = new SharedTile(2 * keyChunks + 2 * queryChunks, ScoreChunksPerRow);
        ScoreGrads = new SharedTile(2 * keyChunks + 2 * queryChunks + scoreChunks, ScoreChunksPerRow);
        RowTableWord = (2 * keyChunks + 2 * queryChunks + 2 * scoreChunks) * 4;
    }

    /// <summary>16-byte chunks per row of P and dS.</summary>
    public static int ScoreChunksPerRow => DenseBackward.BlockN / Chunk16.Elements;

    /// <summary>The row table of the query tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MobaRowTable Rows(ArrayView<uint> words) => new(words, RowTableWord, DenseBackward.BlockM);

    /// <summary>Dynamic shared memory in 16-byte chunks for head dim <paramref name="headDim"/>.</summary>
    public static int SharedChunks(int headDim)
    {
        int chunksPerRow = headDim / Chunk16.Elements;
        int tiles = 2 * (DenseBackward.BlockN + DenseBackward.BlockM) * chunksPerRow
            + 2 * DenseBackward.BlockM * ScoreChunksPerRow;
        return tiles + (DenseBackward.BlockM * MobaRowTable.WordsPerRow + 3) / 4;
    }
}
