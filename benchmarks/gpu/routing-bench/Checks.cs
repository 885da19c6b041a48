using FlashMoBA.Kernels.Routing;

namespace FlashMoBA.RoutingBench;

/// <summary>Host-side checks of a routing plan copied back from the GPU.</summary>
internal static class Checks
{
    /// <summary>
    /// Regroups the plan's own top-k on the host by counting sort (segment s = global block × H + head,
    /// rows ascending) and compares offsets, counts and rows exactly; null when equal.
    /// </summary>
    public static string? ReindexMismatch(RoutingGeometry g, RoutingPlanSnapshot plan)
    {
        var counts = new int[g.Segments];
        ForEachSelection(g, plan.TopkIndex, (segment, _) => counts[segment]++);
        var offsets = new int[g.Segments + 1];
        for (int s = 0; s < g.Segments; s++)
            offsets[s + 1] = offsets[s] + counts[s];
        var cursor = (int[])offsets.Clone();
        var rows = new int[offsets[^1]];
        ForEachSelection(g, plan.TopkIndex, (segment, row) => rows[cursor[segment]++] = row);

        for (int s = 0; s < g.Segments; s++)
        {
            if (plan.SegmentCounts[s] != counts[s] || plan.SegmentOffsets[s] != offsets[s])
                return $"segment {s}: offset {plan.SegmentOffsets[s]} count {plan.SegmentCounts[s]}, expected {offsets[s]} / {counts[s]}";
        }
        if (plan.SegmentOffsets[^1] != offsets[^1] || plan.SegmentRows.Length != rows.Length)
            return $"total {plan.SegmentOffsets[^1]}, expected {offsets[^1]}";
        for (int i = 0; i < rows.Length; i++)
        {
            if (plan.SegmentRows[i] != rows[i])
                return $"row entry {i}: {plan.SegmentRows[i]}, expected {rows[i]}";
        }
        return null;
    }

    /// <summary>
    /// One causal (row, head) selection against float64 candidate scores of the blocks before the own
    /// block: slot 0 = own, then exactly min(topK − 1, own) distinct earlier blocks, −1 after. Returns 0
    /// when the set equals the float64 top set, 1 when it differs only by blocks whose score is within
    /// the two scores' accumulation error of the boundary, −1 otherwise.
    /// </summary>
    public static int CompareCausalRow(int[] got, int own, (double Score, double Error, int Block)[] candidates, int topK)
    {
        if (got[0] != own)
            return -1;
        return CompareSet(got.Skip(1).ToArray(), candidates, topK - 1);
    }

    /// <summary>The used prefix of <paramref name="got"/> against the top <paramref name="slots"/> of the candidates.</summary>
    public static int CompareSet(int[] got, (double Score, double Error, int Block)[] candidates, int slots)
    {
        int expectedCount = Math.Min(slots, candidates.Length);
        var used = got.TakeWhile(b => b >= 0).ToArray();
        if (used.Length != expectedCount || got.Skip(used.Length).Any(b => b != -1) || used.Distinct().Count() != used.Length
            || used.Any(b => b >= candidates.Length))
            return -1;
        var ranked = candidates.OrderByDescending(c => c.Score).ThenByDescending(c => c.Block).ToArray();
        var want = ranked.Take(expectedCount).Select(c => c.Block).ToHashSet();
        if (want.SetEquals(used))
            return 0;
        var boundary = ranked[expectedCount - 1];
        foreach (int block in want.Except(used).Concat(used.Except(want)))
        {
            var candidate = candidates.First(c => c.Block == block);
            if (Math.Abs(candidate.Score - boundary.Score) > candidate.Error + boundary.Error)
                return -1;
        }
        return 1;
    }

    private static void ForEachSelection(RoutingGeometry g, int[] topkIndex, Action<int, int> visit)
    {
        for (int b = 0; b < g.Batch; b++)
        {
            for (int row = g.CuSeqlensQ[b]; row < g.CuSeqlensQ[b + 1]; row++)
            {
                for (int h = 0; h < g.Heads; h++)
                {
                    for (int slot = 0; slot < g.TopK; slot++)
                    {
                        int block = topkIndex[(row * g.Heads + h) * g.TopK + slot];
                        if (block >= 0)
                            visit((g.CuBlocks[b] + block) * g.Heads + h, row - g.CuSeqlensQ[b]);
                    }
                }
            }
        }
    }
}
