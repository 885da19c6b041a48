using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>Maps a global token row of a varlen batch to its sequence (DESIGN.md §3 layout).</summary>
internal static class SequenceSearch
{
    /// <summary>
    /// The sequence <c>b</c> with <c>cuSeqlens[b] ≤ row &lt; cuSeqlens[b+1]</c> for
    /// <c>0 ≤ row &lt; cuSeqlens[batch]</c>: the last start not after the row, which skips empty
    /// sequences. Binary search, so a batch of thousands of sequences costs a dozen reads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SequenceOf(ArrayView<int> cuSeqlens, int batch, int row)
    {
        int low = 0, high = batch - 1;
        while (low < high)
        {
            int mid = (low + high + 1) >> 1;
            if (cuSeqlens[mid] <= row) low = mid;
            else high = mid - 1;
        }
        return low;
    }
}
