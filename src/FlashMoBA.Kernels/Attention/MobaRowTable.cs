using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Per-row facts of one gathered query tile, staged in shared memory by one thread per row before
/// the tile is copied, so that the copy threads and every lane holding a row read them once: where
/// the row's q (and dO) start, the last key of the block it sees, its LSE in base 2, its statistics
/// slot (forward pass 1) and its <c>D = rowsum(dO∘O)</c> (backward). Padding rows past the end of the
/// segment have first chunk −1 (copied as zeros, never written back), last key −1 and LSE +∞, so
/// their probabilities are exactly 0.
/// </summary>
internal readonly struct MobaRowTable
{
    /// <summary>Words of shared memory one row takes.</summary>
    public const int WordsPerRow = 5;

    /// <summary>First 16-byte chunk of the row's q (and dO, same layout) in <c>[totalQ, H, d]</c>; −1 for padding.</summary>
    public readonly ArrayView<int> FirstChunk;

    /// <summary>Last sequence-local key of the block the row sees (see <see cref="MobaKeyBlock.LastVisibleKey"/>).</summary>
    public readonly ArrayView<int> LastKey;

    /// <summary>The row's LSE · log2 e (+∞ for padding and for rows that see nothing).</summary>
    public readonly ArrayView<float> LseLog2;

    /// <summary>Index of the (row, head, slot) that selected the block, in <c>[totalQ, H, topK]</c>; −1 for padding.</summary>
    public readonly ArrayView<int> StatsSlot;

    /// <summary>The row's D = rowsum(dO∘O) (backward only).</summary>
    public readonly ArrayView<float> Delta;

    /// <summary>A table of <paramref name="rows"/> rows starting at word <paramref name="firstWord"/> of dynamic shared memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MobaRowTable(ArrayView<uint> words, int firstWord, int rows)
    {
        var ints = words.Cast<int>();
        var floats = words.Cast<float>();
        FirstChunk = ints.SubView(firstWord, rows);
        LastKey = ints.SubView(firstWord + rows, rows);
        LseLog2 = floats.SubView(firstWord + 2 * rows, rows);
        StatsSlot = ints.SubView(firstWord + 3 * rows, rows);
        Delta = floats.SubView(firstWord + 4 * rows, rows);
    }

    /// <summary>Marks row <paramref name="row"/> of the tile as padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetPadding(int row)
    {
        FirstChunk[row] = -1;
        LastKey[row] = -1;
        LseLog2[row] = float.PositiveInfinity;
        StatsSlot[row] = -1;
        Delta[row] = 0f;
    }
}
