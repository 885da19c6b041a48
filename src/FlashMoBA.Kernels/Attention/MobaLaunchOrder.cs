namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The order in which the MoBA attention CTAs take key blocks. Under causal routing a block is chosen
/// by its own rows and by a share of every later row, so early blocks carry the longest query lists
/// (block 0 several times the average at 64K tokens). Launching blocks by ascending sequence-local
/// index puts the longest CTAs first and lets the short ones fill the tail.
/// </summary>
internal static class MobaLaunchOrder
{
    /// <summary>Global block indices ordered by sequence-local index, then by sequence.</summary>
    /// <param name="cuBlocks">Key-block prefix sums <c>[batch+1]</c>.</param>
    public static int[] Build(ReadOnlySpan<int> cuBlocks)
    {
        int batch = cuBlocks.Length - 1;
        int total = cuBlocks[batch];
        int maxBlocks = 0;
        for (int b = 0; b < batch; b++) maxBlocks = Math.Max(maxBlocks, cuBlocks[b + 1] - cuBlocks[b]);
        var order = new int[Math.Max(1, total)];
        int next = 0;
        for (int local = 0; local < maxBlocks; local++)
        {
            for (int b = 0; b < batch; b++)
            {
                if (local < cuBlocks[b + 1] - cuBlocks[b]) order[next++] = cuBlocks[b] + local;
            }
        }
        return order;
    }
}
