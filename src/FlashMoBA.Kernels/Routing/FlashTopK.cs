using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Fused gating + top-k ("Flash TopK", DESIGN.md §3 steps 2–3, §4.1b). One CTA owns <see cref="BlockM"/>
/// query rows of one (sequence, head): it stages them in shared memory once, then streams its KV
/// head's centroids in tiles of <see cref="BlockN"/>, computes the raw fp32 scores q·c on tensor cores
/// (each warp a 32×32 <see cref="ScoreTile32x32"/>), and folds them into a running top-k list per row
/// held by one lane (registers for up to 8 candidates, <see cref="RegisterTopK8"/>; shared memory above,
/// <see cref="SharedTopK"/>). The Nq × n score matrix never leaves the chip: global traffic is the queries
/// once (N·H·d), the centroids (n·Hk·d from DRAM; re-read per query tile, from L2) and the selections
/// (N·H·topK), i.e. O(N·d + N·topK) per head.
/// </summary>
internal static class FlashTopK
{
    /// <summary>Warps per CTA; each owns <see cref="WarpRows"/> query rows.</summary>
    public const int Warps = 4;

    /// <summary>Threads per CTA.</summary>
    public const int Threads = Warps * 32;

    /// <summary>Query rows per warp: two m16 slabs, one row per lane in the top-k phase.</summary>
    public const int WarpRows = 32;

    /// <summary>Query rows per CTA.</summary>
    public const int BlockM = Warps * WarpRows;

    /// <summary>Centroids per streamed tile: four n8 MMA columns, so each warp's scores of a tile are
    /// one 32×32 register tile (eight m16n8 accumulators, each A/B fragment loaded once per k-step).</summary>
    public const int BlockN = 32;

    /// <summary>Packed pairs of padding per staged row: a row stride ≡ 4 (mod 8) words puts the eight
    /// rows of a fragment load on distinct bank quads, so fragment loads are conflict-free; 4 words
    /// also keep every row 16-byte aligned for vector stores.</summary>
    public const int RowPadWords = 4;

    /// <summary>Row stride of a warp's score tile in floats: 33 makes lane r reading row r column c hit
    /// bank (r + c) mod 32, conflict-free.</summary>
    public const int ScoreStride = WarpRows + 1;

    /// <summary>Everything the kernel reads.</summary>
    internal readonly struct Args(ArrayView<uint> q, ArrayView<uint> centroids, ArrayView<int> topkIndex,
                                  ArrayView<int> cuSeqlensQ, ArrayView<int> cuSeqlensK, ArrayView<int> cuBlocks,
                                  ArrayView<int> cuTiles, ArrayView<int> tileOrder, int batch, int heads, int headsKv, int headDim,
                                  int blockSize, int topK, bool causal, int listWords)
    {
        /// <summary>Queries <c>[totalQ, Heads, HeadDim / 2]</c> as packed 16-bit pairs.</summary>
        public readonly ArrayView<uint> Q = q;

        /// <summary>Centroids <c>[totalBlocks, HeadsKv, HeadDim / 2]</c> as packed pairs.</summary>
        public readonly ArrayView<uint> Centroids = centroids;

        /// <summary>Output <c>[totalQ, Heads, TopK]</c>.</summary>
        public readonly ArrayView<int> TopkIndex = topkIndex;

        /// <summary>Query prefix sums <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuSeqlensQ = cuSeqlensQ;

        /// <summary>Key prefix sums <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuSeqlensK = cuSeqlensK;

        /// <summary>Key-block prefix sums <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuBlocks = cuBlocks;

        /// <summary>Prefix sums of query tiles <c>ceil(Nq / BlockM)</c> <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuTiles = cuTiles;

        /// <summary>Global query tile of each CTA row of the grid <c>[totalTiles]</c>, heaviest first.</summary>
        public readonly ArrayView<int> TileOrder = tileOrder;

        /// <summary>Number of sequences.</summary>
        public readonly int Batch = batch;

        /// <summary>Query heads.</summary>
        public readonly int Heads = heads;

        /// <summary>KV heads.</summary>
        public readonly int HeadsKv = headsKv;

        /// <summary>Head dimension (multiple of 16).</summary>
        public readonly int HeadDim = headDim;

        /// <summary>MoBA block size.</summary>
        public readonly int BlockSize = blockSize;

        /// <summary>Slots per row.</summary>
        public readonly int TopK = topK;

        /// <summary>Bottom-right causal routing when 1 (an int: kernel arguments must be blittable).</summary>
        public readonly int Causal = causal ? 1 : 0;

        /// <summary>Shared words at the start of dynamic shared memory holding the top-k lists (0 for
        /// register lists).</summary>
        public readonly int ListWords = listWords;
    }

    /// <summary>Packed words per staged row.</summary>
    public static int RowStride(int headDim) => headDim / 2 + RowPadWords;

    /// <summary>Candidates each row keeps: causal routing forces the own block into slot 0.</summary>
    public static int Candidates(int topK, bool causal) => causal ? topK - 1 : topK;

    /// <summary>Whether rows keep their lists in registers (<see cref="RegisterTopK8"/>) rather than shared memory.</summary>
    public static bool RegisterLists(int topK, bool causal) => Candidates(topK, causal) <= RegisterTopK8.MaxCapacity;

    /// <summary>Shared words of the top-k lists (none when they live in registers).</summary>
    public static int ListWords(int topK, bool causal, bool sharedLists)
        => sharedLists ? BlockM * Candidates(topK, causal) * 2 : 0;

    /// <summary>Dynamic shared memory in 4-byte words: shared top-k keys (8-byte, first for alignment), the
    /// query tile, one centroid tile and the warps' score tiles.</summary>
    public static int SharedWords(int headDim, int topK, bool causal, bool sharedLists)
        => ListWords(topK, causal, sharedLists) + (BlockM + BlockN) * RowStride(headDim) + Warps * WarpRows * ScoreStride;

    /// <summary>One CTA per (query tile, head), the heads of a tile adjacent, tiles in
    /// <see cref="RoutingGeometry.TopKTileOrder"/> (heaviest first).</summary>
    internal static void Kernel<TElem, TList>(Args args)
        where TElem : struct, IElementOps
        where TList : struct, IRowTopK
    {
        // ---- indices and sequence -------------------------------------------------------------
        int head = Grid.IdxX % args.Heads;
        int tile = args.TileOrder[Grid.IdxX / args.Heads];
        int sequence = VarlenSearch.Find(args.CuTiles, args.Batch, tile);
        int queryStart = args.CuSeqlensQ[sequence];
        int lenQ = args.CuSeqlensQ[sequence + 1] - queryStart;
        int lenK = args.CuSeqlensK[sequence + 1] - args.CuSeqlensK[sequence];
        int blocks = (lenK + args.BlockSize - 1) / args.BlockSize;
        int tileRow0 = (tile - args.CuTiles[sequence]) * BlockM;
        int kvHead = head / (args.Heads / args.HeadsKv);
        int candidates = Candidates(args.TopK, args.Causal != 0);
        int stride = RowStride(args.HeadDim);
        int pairs = args.HeadDim / 2;

        // Causal: candidates of a row are the blocks before its own; the tile needs those of its last row.
        int lastRow = XMath.Min(tileRow0 + BlockM, lenQ) - 1;
        int blockEnd = args.Causal != 0 ? XMath.Max(0, lastRow + lenK - lenQ) / args.BlockSize : blocks;
        if (args.Causal != 0 && lastRow + lenK - lenQ < 0)
            blockEnd = 0;
        if (candidates == 0)
            blockEnd = 0;

        // ---- shared memory ----------------------------------------------------------------------
        var shared = SharedMemory.GetDynamic<uint>();
        int keyWords = args.ListWords;
        var lists = shared.SubView(0, XMath.Max(2, keyWords)).Cast<ulong>();
        var sQ = shared.SubView(keyWords, BlockM * stride);
        var sC = shared.SubView(keyWords + BlockM * stride, BlockN * stride);
        var sS = shared.SubView(keyWords + (BlockM + BlockN) * stride, Warps * WarpRows * ScoreStride)
                       .Cast<float>().SubView(Warp.WarpIdx * WarpRows * ScoreStride, WarpRows * ScoreStride);

        // ---- prologue: stage the query tile, empty the lists -------------------------------------
        int vectors = pairs / 4, stride4 = stride / 4;
        if (blockEnd > 0)
        {
            long qRowStride4 = (long)args.Heads * vectors;
            RowStaging.Copy(sQ.Cast<Words4>(), stride4, args.Q.Cast<Words4>(),
                            (queryStart + tileRow0) * qRowStride4 + (long)head * vectors, qRowStride4,
                            BlockM, lenQ - tileRow0, vectors, Threads);
        }

        int lane = Warp.LaneIdx;
        int warpRow0 = tileRow0 + Warp.WarpIdx * WarpRows;
        int myRow = warpRow0 + lane;
        int myPosition = myRow + lenK - lenQ;
        bool rowActive = myRow < lenQ && (args.Causal == 0 || myPosition >= 0);
        int myLimit = args.Causal != 0 ? XMath.Max(myPosition, 0) / args.BlockSize : blocks;
        var list = default(TList);
        list.Reset(lists, (Warp.WarpIdx * WarpRows + lane) * candidates, candidates);

        // A warp skips the tiles none of its rows can use: past its last row's own block (causal) or
        // all of them when its rows lie beyond the sequence. The test is warp-uniform, as MMA needs.
        int warpLastRow = XMath.Min(warpRow0 + WarpRows, lenQ) - 1;
        int warpBlockEnd = args.Causal != 0 ? (warpLastRow + lenK - lenQ) / args.BlockSize : blocks;
        if (warpLastRow < warpRow0 || (args.Causal != 0 && warpLastRow + lenK - lenQ < 0))
            warpBlockEnd = 0;

        // ---- main loop: stream centroid tiles -----------------------------------------------------
        // The next tile's loads are issued before the current tile is scored (one batch of four 16-byte
        // vectors per thread covers a tile for d ≤ 256), so their latency hides behind the MMAs.
        long centroidRowStride4 = (long)args.HeadsKv * vectors;
        long centroidBase4 = (long)args.CuBlocks[sequence] * centroidRowStride4 + (long)kvHead * vectors;
        var centroids4 = args.Centroids.Cast<Words4>();
        var next = blockEnd > 0
            ? RowStaging.LoadBatch(centroids4, centroidBase4, centroidRowStride4, BlockN, blocks, vectors, Threads, 0)
            : default;
        for (int n0 = 0; n0 < blockEnd; n0 += BlockN)
        {
            Group.Barrier();
            RowStaging.StoreBatch(sC.Cast<Words4>(), stride4, BlockN, vectors, Threads, 0, next);
            Group.Barrier();
            if (n0 + BlockN < blockEnd)
            {
                next = RowStaging.LoadBatch(centroids4, centroidBase4 + (n0 + BlockN) * centroidRowStride4,
                                            centroidRowStride4, BlockN, blocks - n0 - BlockN, vectors, Threads, 0);
            }
            if (n0 >= warpBlockEnd)
                continue;

            var scores = default(ScoreTile32x32);
            scores.Accumulate<TElem>(sQ, sC, Warp.WarpIdx * WarpRows, stride, pairs);
            scores.Store(sS, ScoreStride);
            Warp.Barrier();

            // Two passes over the lane's row: a branch-free mask of the columns that beat the admission
            // score, then one insertion per set bit, so the warp runs as many insertion rounds as its
            // busiest lane needs rather than one per column in which any lane inserts.
            int columns = rowActive ? XMath.Min(BlockN, myLimit - n0) : 0;
            float admissionScore = TopKKey.ScoreOf(list.Admission());
            uint passing = 0u;
            for (int c = 0; c < columns; c++)
                passing |= (sS[lane * ScoreStride + c] >= admissionScore ? 1u : 0u) << c;
            while (passing != 0u)
            {
                int c = IntrinsicMath.BitOperations.TrailingZeroCount(passing);
                passing &= passing - 1u;
                ulong key = TopKKey.Make(sS[lane * ScoreStride + c], n0 + c);
                if (key > list.Admission())
                    list.Insert(key);
            }
            Warp.Barrier();
        }

        // ---- epilogue: own block, then the list; −1 for the rest ----------------------------------
        if (myRow >= lenQ)
            return;
        long outBase = ((long)(queryStart + myRow) * args.Heads + head) * args.TopK;
        int slot = 0;
        if (args.Causal != 0 && rowActive)
            args.TopkIndex[outBase + slot++] = myPosition / args.BlockSize;
        for (int i = 0; i < candidates; i++)
        {
            ulong key = rowActive ? list.Key(i) : 0ul;
            if (key != 0ul)
                args.TopkIndex[outBase + slot++] = TopKKey.BlockOf(key);
        }
        for (; slot < args.TopK; slot++)
            args.TopkIndex[outBase + slot] = -1;
    }

    /// <summary>Launches the kernel for every (query tile, head) of the plan.</summary>
    /// <param name="cache">Kernel cache of the plan's accelerator.</param>
    /// <param name="stream">Stream to enqueue on.</param>
    /// <param name="plan">Plan whose centroids are built; receives <see cref="RoutingPlan.TopkIndex"/>.</param>
    /// <param name="q">Queries as packed 16-bit pairs.</param>
    /// <param name="sharedLists">Keeps the lists in shared memory even when registers would do (for
    /// benchmarking the two forms against each other).</param>
    internal static void Launch(KernelCache cache, AcceleratorStream stream, RoutingPlan plan, ArrayView<uint> q,
                                bool sharedLists = false)
    {
        var g = plan.Geometry;
        int grid = g.TopKTiles * g.Heads;
        if (grid == 0)
            return;
        var args = new Args(q, plan.CentroidPairs, plan.TopkIndex.View, plan.CuSeqlensQ.View, plan.CuSeqlensK.View,
                            plan.CuBlocks.View, plan.CuTopKTiles.View, plan.TopKTileOrder.View, g.Batch, g.Heads, g.HeadsKv, g.HeadDim,
                            g.BlockSize, g.TopK, g.Causal, ListWords(g.TopK, g.Causal, sharedLists || !RegisterLists(g.TopK, g.Causal)));
        bool registers = !sharedLists && RegisterLists(g.TopK, g.Causal);
        var list = registers ? typeof(RegisterTopK8) : typeof(SharedTopK);
        var kernel = cache.Get<Args>(typeof(FlashTopK), nameof(Kernel), RoutingGeometry.ElementOpsType(g.ElementType), list);
        kernel.Launch(stream, new KernelConfig(grid, Threads,
                                               SharedMemoryConfig.RequestDynamic<uint>(SharedWords(g.HeadDim, g.TopK, g.Causal, !registers))),
                      args);
    }
}
