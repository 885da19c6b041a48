using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Second step of the MoBA forward (DESIGN.md §3 step 5, §4.2): merges the per-block softmax
/// statistics that <see cref="MobaForward.StatsKernel{TElem, THeadDim}"/> wrote for every (row, head, slot) into
/// the row's log-sum-exp over the union of its blocks. One thread per (row, head of the chunk); the statistics are
/// in the log2 domain of the scaled score, <c>x = s·scale·log2 e</c>: a slot holds
/// <c>m = max x</c> and <c>l = Σ 2^(x − m)</c>, so <c>LSE = ln 2 · (M + log2 Σ l·2^(m − M))</c>.
/// A row with no selected key (p &lt; 0, or every selected key masked) gets +∞.
/// </summary>
internal static class MobaLseMerge
{
    /// <summary>Threads per group: a plain elementwise kernel, one (row, head) each.</summary>
    public const int Threads = 256;


    /// <summary>Everything the merge reads and writes.</summary>
    internal readonly struct Args(ArrayView<int> topkIndex, ArrayView<float> slotStats, ArrayView<float> lse,
        int totalQ, int heads, int topK, MobaHeadRange chunk)
    {
        /// <summary>Selections <c>[totalQ, Heads, TopK]</c>, −1 for unused slots.</summary>
        public readonly ArrayView<int> TopkIndex = topkIndex;

        /// <summary>Per slot <c>(m, l)</c> pairs <c>[totalQ, Chunk.Count, TopK, 2]</c>; only used slots are read.</summary>
        public readonly ArrayView<float> SlotStats = slotStats;

        /// <summary>Output natural-log LSE <c>[Heads, totalQ]</c>.</summary>
        public readonly ArrayView<float> Lse = lse;

        /// <summary>Query rows over the batch.</summary>
        public readonly int TotalQ = totalQ;

        /// <summary>Query heads.</summary>
        public readonly int Heads = heads;

        /// <summary>Slots per (row, head).</summary>
        public readonly int TopK = topK;

        /// <summary>The query heads merged by this launch.</summary>
        public readonly MobaHeadRange Chunk = chunk;
    }

    /// <summary>One thread per (row, chunk head) pair <c>i = row · Chunk.Count + head − Chunk.First</c>.</summary>
    internal static void Kernel(Args args)
    {
        int pair = Grid.GlobalIndex.X;
        if (pair >= args.TotalQ * args.Chunk.Count) return;
        int row = pair / args.Chunk.Count, head = args.Chunk.First + pair - row * args.Chunk.Count;
        int firstSlot = (row * args.Heads + head) * args.TopK;
        long firstStat = 2L * pair * args.TopK;

        float rowMax = float.NegativeInfinity;
        for (int slot = 0; slot < args.TopK; slot++)
        {
            if (args.TopkIndex[firstSlot + slot] >= 0)
                rowMax = XMath.Max(rowMax, args.SlotStats[firstStat + 2 * slot]);
        }

        float lse = float.PositiveInfinity;
        if (rowMax != float.NegativeInfinity)
        {
            float rowSum = 0f;
            for (int slot = 0; slot < args.TopK; slot++)
            {
                long stat = firstStat + 2 * slot;
                // An all-masked block has m = −∞ and l = 0; skipping it avoids 0 · 2^(−∞ − M) = NaN paths.
                if (args.TopkIndex[firstSlot + slot] >= 0 && args.SlotStats[stat] != float.NegativeInfinity)
                    rowSum += args.SlotStats[stat + 1] * XMath.Exp2(args.SlotStats[stat] - rowMax);
            }
            lse = (rowMax + XMath.Log2(rowSum)) * MobaScale.Ln2;
        }
        args.Lse[head * args.TotalQ + row] = lse;
    }

    /// <summary>Enqueues the merge for every (row, head of the chunk) on <paramref name="stream"/>.</summary>
    internal static void Launch(KernelCache cache, AcceleratorStream stream, in Args args)
    {
        long pairs = (long)args.TotalQ * args.Chunk.Count;
        if (pairs == 0) return;
        var kernel = cache.Get<Args>(typeof(MobaLseMerge), nameof(Kernel));
        kernel.Launch(stream, new KernelConfig((int)((pairs + Threads - 1) / Threads), Threads), args);
    }
}
