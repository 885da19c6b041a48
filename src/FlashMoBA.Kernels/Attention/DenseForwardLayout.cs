using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dynamic shared memory of a dense forward CTA, in 16-byte chunks: the query tile
/// (<see cref="DenseForward.BlockM"/> rows, read once into registers), then one key and one value tile
/// (<see cref="DenseForward.BlockN"/> rows each). 48 KB at d = 128, 24 KB at d = 64.
/// </summary>
internal readonly struct DenseForwardLayout
{
    /// <summary>Query tile [BlockM][d].</summary>
    public readonly SharedTile Queries;

    /// <summary>Key tile [BlockN][d].</summary>
    public readonly SharedTile Keys;

    /// <summary>Value tile [BlockN][d].</summary>
    public readonly SharedTile Values;

    /// <summary>The layout for rows of <paramref name="chunksPerRow"/> chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseForwardLayout(int chunksPerRow)
    {
        int queryChunks = DenseForward.BlockM * chunksPerRow, keyChunks = DenseForward.BlockN * chunksPerRow;
        Queries = new SharedTile(0, chunksPerRow);
        Keys = new SharedTile(queryChunks, chunksPerRow);
        Values = new SharedTile(queryChunks + keyChunks, chunksPerRow);
    }

    /// <summary>Dynamic shared memory in 16-byte chunks for head dim <paramref name="headDim"/>.</summary>
    public static int SharedChunks(int headDim) =>
        (DenseForward.BlockM + 2 * DenseForward.BlockN) * (headDim / Chunk16.Elements);
}
