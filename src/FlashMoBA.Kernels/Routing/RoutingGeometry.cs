using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Host-side facts of one routing problem (DESIGN.md §3 steps 1–3): the varlen batch, head counts,
/// block size, topK and mask mode, plus every size the router's buffers derive from. Built once and
/// validated before any launch; all kernels of the router read their sizes from here.
/// </summary>
internal sealed class RoutingGeometry
{
    /// <summary>Largest topK the router supports (DESIGN.md §3).</summary>
    public const int MaxTopK = 64;

    /// <summary>Largest head dimension: FlashTopK prefetches a centroid tile as one batch of four
    /// 16-byte vectors per thread, which covers d ≤ 256.</summary>
    public const int MaxHeadDim = 256;

    /// <summary>
    /// The reindex splits each sequence's query rows into at most this many chunks; one warp orders
    /// one chunk, so this bounds both the serial depth of the scatter (rows per chunk / 32 steps) and
    /// the size of the per-chunk count matrix (segments × chunks ints).
    /// </summary>
    public const int TargetChunksPerSequence = 64;

    /// <summary>Rows ordered per step of the scatter warp (one row per lane).</summary>
    public const int WarpRows = 32;

    private RoutingGeometry(int[] cuSeqlensQ, int[] cuSeqlensK, int heads, int headsKv, int headDim,
                            int blockSize, int topK, bool causal, ElementType elementType)
    {
        CuSeqlensQ = cuSeqlensQ;
        CuSeqlensK = cuSeqlensK;
        Heads = heads;
        HeadsKv = headsKv;
        HeadDim = headDim;
        BlockSize = blockSize;
        TopK = topK;
        Causal = causal;
        ElementType = elementType;

        Batch = cuSeqlensQ.Length - 1;
        CuBlocks = new int[Batch + 1];
        CuTopKTiles = new int[Batch + 1];
        for (int b = 0; b < Batch; b++)
        {
            int nk = cuSeqlensK[b + 1] - cuSeqlensK[b];
            int nq = cuSeqlensQ[b + 1] - cuSeqlensQ[b];
            int blocks = (nk + blockSize - 1) / blockSize;
            CuBlocks[b + 1] = CuBlocks[b] + blocks;
            CuTopKTiles[b + 1] = CuTopKTiles[b] + (nq + FlashTopK.BlockM - 1) / FlashTopK.BlockM;
            MaxSeqlenQ = Math.Max(MaxSeqlenQ, nq);
            MaxBlocks = Math.Max(MaxBlocks, blocks);
        }

        TopKTileOrder = new int[TopKTiles];
        var order = Enumerable.Range(0, Batch)
            .SelectMany(b => Enumerable.Range(CuTopKTiles[b], CuTopKTiles[b + 1] - CuTopKTiles[b])
                                       .Select(tile => (Local: tile - CuTopKTiles[b], Global: tile)))
            .OrderByDescending(t => t.Local).ThenBy(t => t.Global)
            .Select(t => t.Global);
        int next = 0;
        foreach (int tile in order)
            TopKTileOrder[next++] = tile;

        int rowsPerChunk = (MaxSeqlenQ + TargetChunksPerSequence - 1) / TargetChunksPerSequence;
        ChunkRows = Math.Max(WarpRows, (rowsPerChunk + WarpRows - 1) / WarpRows * WarpRows);
        ChunksPerSequence = Math.Max(1, (MaxSeqlenQ + ChunkRows - 1) / ChunkRows);
    }

    /// <summary>Prefix sums of query lengths, <c>[Batch+1]</c>.</summary>
    public int[] CuSeqlensQ { get; }

    /// <summary>Prefix sums of key lengths, <c>[Batch+1]</c>.</summary>
    public int[] CuSeqlensK { get; }

    /// <summary>Prefix sums of per-sequence key-block counts <c>ceil(Nk / BlockSize)</c>, <c>[Batch+1]</c>.</summary>
    public int[] CuBlocks { get; }

    /// <summary>Prefix sums of <see cref="FlashTopK"/> query tiles <c>ceil(Nq / BlockM)</c>, <c>[Batch+1]</c>.</summary>
    public int[] CuTopKTiles { get; }

    /// <summary>
    /// The order in which <see cref="FlashTopK"/> CTAs take query tiles: by descending tile index within
    /// the sequence (causal rows late in a sequence score the most blocks), so the heaviest tiles of all
    /// sequences start first and the light ones fill the tail.
    /// </summary>
    public int[] TopKTileOrder { get; }

    /// <summary>Query tiles of <see cref="FlashTopK"/> over the batch (one CTA per tile and head).</summary>
    public int TopKTiles => CuTopKTiles[^1];

    /// <summary>Number of sequences.</summary>
    public int Batch { get; }

    /// <summary>Query heads H.</summary>
    public int Heads { get; }

    /// <summary>Key/value heads Hk (query head h reads KV head h / (H / Hk)).</summary>
    public int HeadsKv { get; }

    /// <summary>Head dimension d.</summary>
    public int HeadDim { get; }

    /// <summary>MoBA block size B.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks selected per query row and head.</summary>
    public int TopK { get; }

    /// <summary>Bottom-right causal routing when true.</summary>
    public bool Causal { get; }

    /// <summary>Storage type of q, k and the centroids.</summary>
    public ElementType ElementType { get; }

    /// <summary>Total query rows.</summary>
    public int TotalQ => CuSeqlensQ[^1];

    /// <summary>Total key rows.</summary>
    public int TotalK => CuSeqlensK[^1];

    /// <summary>Total key blocks over the batch.</summary>
    public int TotalBlocks => CuBlocks[^1];

    /// <summary>Query heads per KV head.</summary>
    public int GroupSize => Heads / HeadsKv;

    /// <summary>Longest query sequence.</summary>
    public int MaxSeqlenQ { get; }

    /// <summary>Most key blocks of one sequence.</summary>
    public int MaxBlocks { get; }

    /// <summary>Key-block segments: one per (global block, query head), <c>TotalBlocks × Heads</c>.</summary>
    public int Segments => TotalBlocks * Heads;

    /// <summary>Upper bound on (row, head, block) selections: <c>TotalQ × Heads × min(TopK, MaxBlocks)</c>.</summary>
    public long SelectionCapacity => (long)TotalQ * Heads * Math.Min(TopK, Math.Max(1, MaxBlocks));

    /// <summary>Query rows per reindex chunk (a multiple of <see cref="WarpRows"/>).</summary>
    public int ChunkRows { get; }

    /// <summary>Chunks per sequence in the reindex count matrix (sized for the longest sequence).</summary>
    public int ChunksPerSequence { get; }

    /// <summary>Entries of the reindex count matrix <c>[Segments, ChunksPerSequence]</c>.</summary>
    public long ChunkCells => (long)Segments * ChunksPerSequence;

    /// <summary>
    /// Validates and builds a geometry. Throws <see cref="ArgumentException"/> naming the argument and
    /// the rule it breaks.
    /// </summary>
    public static RoutingGeometry Create(int[] cuSeqlensQ, int[] cuSeqlensK, int heads, int headsKv, int headDim,
                                         int blockSize, int topK, bool causal, ElementType elementType)
    {
        ArgumentNullException.ThrowIfNull(cuSeqlensQ);
        ArgumentNullException.ThrowIfNull(cuSeqlensK);
        CheckPrefixSums(cuSeqlensQ, nameof(cuSeqlensQ));
        CheckPrefixSums(cuSeqlensK, nameof(cuSeqlensK));
        if (cuSeqlensK.Length != cuSeqlensQ.Length)
            throw new ArgumentException("cuSeqlensK must have the same length (batch + 1) as cuSeqlensQ.", nameof(cuSeqlensK));
        if (heads < 1)
            throw new ArgumentException("heads must be at least 1.", nameof(heads));
        if (headsKv < 1 || heads % headsKv != 0)
            throw new ArgumentException("headsKv must be at least 1 and divide heads.", nameof(headsKv));
        if (headDim < 16 || headDim > MaxHeadDim || headDim % 16 != 0)
            throw new ArgumentException($"headDim must be a multiple of 16 (the MMA k-step) in 16..{MaxHeadDim}.", nameof(headDim));
        if (blockSize < 16 || blockSize % 16 != 0)
            throw new ArgumentException("blockSize must be at least 16 and a multiple of 16.", nameof(blockSize));
        if (topK < 1 || topK > MaxTopK)
            throw new ArgumentException($"topK must be in 1..{MaxTopK}.", nameof(topK));
        if (elementType is not (ElementType.Float16 or ElementType.BFloat16))
            throw new ArgumentException("elementType must be Float16 or BFloat16.", nameof(elementType));

        var geometry = new RoutingGeometry((int[])cuSeqlensQ.Clone(), (int[])cuSeqlensK.Clone(), heads, headsKv,
                                           headDim, blockSize, topK, causal, elementType);
        if ((long)geometry.TotalQ * heads * topK > int.MaxValue)
            throw new ArgumentException("totalQ × heads × topK must fit in int32 (selection offsets are int32).",
                                        nameof(cuSeqlensQ));
        if (geometry.ChunkCells > int.MaxValue)
            throw new ArgumentException("too many key blocks × heads × chunks for the reindex count matrix.",
                                        nameof(blockSize));
        return geometry;
    }

    /// <summary>The <see cref="IElementOps"/> specialisation of <paramref name="type"/>.</summary>
    public static Type ElementOpsType(ElementType type) => type == ElementType.BFloat16 ? typeof(Bf16Ops) : typeof(Fp16Ops);

    private static void CheckPrefixSums(int[] cu, string name)
    {
        if (cu.Length < 2)
            throw new ArgumentException("must hold batch + 1 ≥ 2 prefix sums.", name);
        if (cu[0] != 0)
            throw new ArgumentException("must start at 0.", name);
        for (int i = 1; i < cu.Length; i++)
        {
            if (cu[i] < cu[i - 1])
                throw new ArgumentException($"must be non-decreasing (entry {i} is below entry {i - 1}).", name);
        }
    }
}
