using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>Eight 16-bit values (four packed pairs): the unit of a 16-byte vector load or store.</summary>
internal struct Words4
{
    /// <summary>Pairs 0–3.</summary>
    public uint X, Y, Z, W;
}

/// <summary>Four vectors of a tile held in registers between their load and their store.</summary>
internal struct TileBatch
{
    /// <summary>Vectors i, i + threads, i + 2·threads, i + 3·threads of the thread's share.</summary>
    public Words4 V0, V1, V2, V3;
}

/// <summary>
/// Group-wide copy of a tile of rows from global to shared memory in 16-byte vectors. Each thread
/// issues four independent loads before its four stores, so a tile costs one memory round trip per
/// four vectors per thread rather than one per word (ILGPU does not unroll the copy loop).
/// </summary>
internal static class RowStaging
{
    /// <summary>Vectors each thread has in flight per round trip.</summary>
    public const int VectorsInFlight = 4;

    /// <summary>
    /// Copies <paramref name="rows"/> rows of <paramref name="vectorsPerRow"/> vectors: row r comes from
    /// <c>source[sourceBase + r · sourceRowStride ..]</c> when <c>r &lt; validRows</c> (zeros otherwise)
    /// and goes to <c>target[r · targetRowStride ..]</c>. Views must be 16-byte aligned, strides and
    /// bases in vectors. All <paramref name="threads"/> threads of the group call it; no barrier inside.
    /// </summary>
    public static void Copy(ArrayView<Words4> target, int targetRowStride, ArrayView<Words4> source, long sourceBase,
                            long sourceRowStride, int rows, int validRows, int vectorsPerRow, int threads)
    {
        for (int first = 0; first < rows * vectorsPerRow; first += VectorsInFlight * threads)
        {
            var batch = LoadBatch(source, sourceBase, sourceRowStride, rows, validRows, vectorsPerRow, threads, first);
            StoreBatch(target, targetRowStride, rows, vectorsPerRow, threads, first, batch);
        }
    }

    /// <summary>Loads this thread's four vectors of the batch starting at vector <paramref name="first"/>
    /// of the tile (see <see cref="Copy"/>); the loads are independent, so all four are in flight.</summary>
    public static TileBatch LoadBatch(ArrayView<Words4> source, long sourceBase, long sourceRowStride, int rows,
                                      int validRows, int vectorsPerRow, int threads, int first)
    {
        var aligned = source.AsAligned16();
        int total = rows * vectorsPerRow;
        int i = first + Group.IdxX;
        return new TileBatch
        {
            V0 = Load(aligned, sourceBase, sourceRowStride, i, total, validRows, vectorsPerRow),
            V1 = Load(aligned, sourceBase, sourceRowStride, i + threads, total, validRows, vectorsPerRow),
            V2 = Load(aligned, sourceBase, sourceRowStride, i + 2 * threads, total, validRows, vectorsPerRow),
            V3 = Load(aligned, sourceBase, sourceRowStride, i + 3 * threads, total, validRows, vectorsPerRow),
        };
    }

    /// <summary>Stores a batch loaded by <see cref="LoadBatch"/> with the same <paramref name="first"/>.</summary>
    public static void StoreBatch(ArrayView<Words4> target, int targetRowStride, int rows, int vectorsPerRow,
                                  int threads, int first, in TileBatch batch)
    {
        var aligned = target.AsAligned16();
        int total = rows * vectorsPerRow;
        int i = first + Group.IdxX;
        Store(aligned, targetRowStride, i, total, vectorsPerRow, batch.V0);
        Store(aligned, targetRowStride, i + threads, total, vectorsPerRow, batch.V1);
        Store(aligned, targetRowStride, i + 2 * threads, total, vectorsPerRow, batch.V2);
        Store(aligned, targetRowStride, i + 3 * threads, total, vectorsPerRow, batch.V3);
    }

    private static Words4 Load(ArrayView<Words4> source, long sourceBase, long sourceRowStride, int i, int total,
                               int validRows, int vectorsPerRow)
    {
        int row = i / vectorsPerRow;
        if (i >= total || row >= validRows)
            return default;
        return source[sourceBase + row * sourceRowStride + (i - row * vectorsPerRow)];
    }

    private static void Store(ArrayView<Words4> target, int targetRowStride, int i, int total, int vectorsPerRow,
                              Words4 value)
    {
        if (i >= total)
            return;
        int row = i / vectorsPerRow;
        target[row * targetRowStride + (i - row * vectorsPerRow)] = value;
    }
}
