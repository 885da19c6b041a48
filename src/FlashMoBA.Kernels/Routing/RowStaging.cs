using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>Eight 16-bit values (four packed pairs): the unit of a 16-byte vector load or store.</summary>
internal struct Words4
{
    /// <summary>Pairs 0–3.</summary>
    public uint X, Y, Z, W;
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
        var alignedTarget = target.AsAligned16();
        var alignedSource = source.AsAligned16();
        int total = rows * vectorsPerRow;
        for (int i = Group.IdxX; i < total; i += VectorsInFlight * threads)
        {
            Words4 v0 = Load(alignedSource, sourceBase, sourceRowStride, i, total, validRows, vectorsPerRow);
            Words4 v1 = Load(alignedSource, sourceBase, sourceRowStride, i + threads, total, validRows, vectorsPerRow);
            Words4 v2 = Load(alignedSource, sourceBase, sourceRowStride, i + 2 * threads, total, validRows, vectorsPerRow);
            Words4 v3 = Load(alignedSource, sourceBase, sourceRowStride, i + 3 * threads, total, validRows, vectorsPerRow);
            Store(alignedTarget, targetRowStride, i, total, vectorsPerRow, v0);
            Store(alignedTarget, targetRowStride, i + threads, total, vectorsPerRow, v1);
            Store(alignedTarget, targetRowStride, i + 2 * threads, total, vectorsPerRow, v2);
            Store(alignedTarget, targetRowStride, i + 3 * threads, total, vectorsPerRow, v3);
        }
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
