using ILGPU;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// A (score, block) candidate as one 64-bit key whose unsigned order is the selection order of
/// DESIGN.md §3: higher score first, ties to the higher block index. The high word is the score's
/// bits made order-preserving (sign flipped for positives, all bits for negatives; −0 counts as +0),
/// the low word the block index. Key 0 is below every real key and marks an empty slot.
/// </summary>
internal static class TopKKey
{
    /// <summary>The key of <paramref name="block"/> scoring <paramref name="score"/>.</summary>
    public static ulong Make(float score, int block)
    {
        uint bits = Interop.FloatAsInt(score);
        if (bits == 0x80000000u)
            bits = 0u;
        uint ordered = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
        return ((ulong)ordered << 32) | (uint)block;
    }

    /// <summary>The score of <paramref name="key"/>; −∞ for the empty key, so every score passes.</summary>
    public static float ScoreOf(ulong key)
    {
        if (key == 0ul)
            return float.NegativeInfinity;
        uint ordered = (uint)(key >> 32);
        uint bits = (ordered & 0x80000000u) != 0 ? ordered & 0x7FFFFFFFu : ~ordered;
        return Interop.IntAsFloat(bits);
    }

    /// <summary>The block index of <paramref name="key"/>.</summary>
    public static int BlockOf(ulong key) => (int)(uint)key;

    /// <summary>
    /// Inserts <paramref name="key"/> into the descending list <c>list[start .. start + length)</c>,
    /// dropping its last entry; requires <paramref name="key"/> above that entry. Returns the new last
    /// entry (the admission threshold).
    /// </summary>
    public static ulong Insert(ArrayView<ulong> list, int start, int length, ulong key)
    {
        int i = length - 1;
        while (i > 0)
        {
            ulong above = list[start + i - 1];
            if (above >= key)
                break;
            list[start + i] = above;
            i--;
        }
        list[start + i] = key;
        return list[start + length - 1];
    }
}
