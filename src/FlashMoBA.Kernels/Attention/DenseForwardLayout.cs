using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dynamic shared memory of a dense forward CTA, in 16-byte chunks: two stages of one key and one value
/// tile (<see cref="DenseForward.BlockN"/> rows each), so the copies of key tile j+1 land in one stage
/// while tile j is computed from the other. The query tile (<see cref="DenseForward.BlockM"/> rows) is
/// read into registers once before the loop and overlays stage 1, which is first written after that.
/// 64 KB at d = 128, 32 KB at d = 64.
/// </summary>
internal readonly struct DenseForwardLayout
{
    /// <summary>Key/value stages.</summary>
    public const int Stages = 2;

    /// <summary>Query tile [BlockM][d] (overlays stage 1).</summary>
    public readonly SharedTile Queries;

    private readonly int chunksPerRow;

    /// <summary>The layout for rows of <paramref name="chunksPerRow"/> chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseForwardLayout(int chunksPerRow)
    {
        this.chunksPerRow = chunksPerRow;
        Queries = new SharedTile(2 * TileChunks(chunksPerRow), chunksPerRow);
    }

    /// <summary>Key tile [BlockN][d] of stage <paramref name="stage"/> (0 or 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedTile Keys(int stage) => new(2 * stage * TileChunks(chunksPerRow), chunksPerRow);

    /// <summary>Value tile [BlockN][d] of stage <paramref name="stage"/> (0 or 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedTile Values(int stage) => new((2 * stage + 1) * TileChunks(chunksPerRow), chunksPerRow);

    /// <summary>Dynamic shared memory in 16-byte chunks for head dim <paramref name="headDim"/>.</summary>
    public static int SharedChunks(int headDim) => 2 * Stages * TileChunks(headDim / Chunk16.Elements);

    private static int TileChunks(int chunksPerRow) => DenseForward.BlockN * chunksPerRow;
}
