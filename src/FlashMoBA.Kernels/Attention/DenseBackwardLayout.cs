using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Dynamic shared memory of a dense backward CTA, in 16-byte chunks: the CTA's key and value tiles
/// (<see cref="DenseBackward.BlockN"/> rows, loaded once), <see cref="QueryStages"/> stages of a query tile's q
/// and dO (<see cref="DenseBackward.BlockM"/> rows each) and <see cref="ScoreBuffers"/> buffers of its P and dS
/// (BlockM × BlockN, 16-bit). With three q/dO stages and two P/dS buffers one barrier per query tile is enough:
/// tile i+1's q/dO are stored while tile i's dV/dK/dQ may still read stage i and tile i−1's readers of stage
/// i+1 ≡ i−2 passed the previous barrier; P/dS of tile i+1 go to the buffer of tile i−1, whose readers passed
/// the barrier before tile i's. 160 KB at d = 128, 96 KB at d = 64.
/// </summary>
internal readonly struct DenseBackwardLayout
{
    /// <summary>q/dO stages.</summary>
    public const int QueryStages = 3;

    /// <summary>P/dS buffers.</summary>
    public const int ScoreBuffers = 2;

    /// <summary>Keys [BlockN][d].</summary>
    public readonly SharedTile Keys;

    /// <summary>Values [BlockN][d].</summary>
    public readonly SharedTile Values;

    private readonly int chunksPerRow;

    /// <summary>The layout for rows of <paramref name="chunksPerRow"/> chunks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public DenseBackwardLayout(int chunksPerRow)
    {
        this.chunksPerRow = chunksPerRow;
        Keys = new SharedTile(0, chunksPerRow);
        Values = new SharedTile(KeyChunks(chunksPerRow), chunksPerRow);
    }

    /// <summary>Queries [BlockM][d] of stage <paramref name="stage"/> (0..2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedTile Queries(int stage) =>
        new(2 * KeyChunks(chunksPerRow) + 2 * stage * QueryChunks(chunksPerRow), chunksPerRow);

    /// <summary>Output gradients [BlockM][d] of stage <paramref name="stage"/> (0..2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedTile OutputGrads(int stage) =>
        new(2 * KeyChunks(chunksPerRow) + (2 * stage + 1) * QueryChunks(chunksPerRow), chunksPerRow);

    /// <summary>Probabilities P [BlockM][BlockN] of buffer <paramref name="buffer"/> (0 or 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedTile Probabilities(int buffer) => new(ScoreBase(chunksPerRow) + 2 * buffer * ScoreChunks, ScoreChunksPerRow);

    /// <summary>Score gradients dS [BlockM][BlockN] of buffer <paramref name="buffer"/> (0 or 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedTile ScoreGrads(int buffer) =>
        new(ScoreBase(chunksPerRow) + (2 * buffer + 1) * ScoreChunks, ScoreChunksPerRow);

    /// <summary>Dynamic shared memory in 16-byte chunks for head dim <paramref name="headDim"/>.</summary>
    public static int SharedChunks(int headDim) => ScoreBase(headDim / Chunk16.Elements) + 2 * ScoreBuffers * ScoreChunks;

    private const int ScoreChunksPerRow = DenseBackward.BlockN / Chunk16.Elements;

    private const int ScoreChunks = DenseBackward.BlockM * ScoreChunksPerRow;

    private static int KeyChunks(int chunksPerRow) => DenseBackward.BlockN * chunksPerRow;

    private static int QueryChunks(int chunksPerRow) => DenseBackward.BlockM * chunksPerRow;

    private static int ScoreBase(int chunksPerRow) => 2 * KeyChunks(chunksPerRow) + 2 * QueryStages * QueryChunks(chunksPerRow);
}
