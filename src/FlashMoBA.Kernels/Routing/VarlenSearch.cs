using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>Maps a flat index (row, block) back to its sequence through a prefix-sum array.</summary>
internal static class VarlenSearch
{
    /// <summary>
    /// The sequence <c>s</c> with <c>cu[s] ≤ x &lt; cu[s+1]</c>, for <c>0 ≤ x &lt; cu[batch]</c>. Empty
    /// sequences (equal neighbouring entries) are skipped because the largest <c>s</c> with
    /// <c>cu[s] ≤ x</c> is taken. Binary search: log2(batch) loads that stay in cache.
    /// </summary>
    public static int Find(ArrayView<int> cu, int batch, int x)
    {
        int lo = 0;
        int hi = batch - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if (cu[mid] <= x)
                lo = mid;
            else
                hi = mid - 1;
        }
        return lo;
    }
}
