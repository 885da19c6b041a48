namespace FlashMoBA.Reference;

/// <summary>
/// Flat offsets into the row-major tensors of <see cref="AttentionShape"/>: q and outputs
/// <c>[TotalQ, Heads, HeadDim]</c>, k and v <c>[TotalK, HeadsKv, HeadDim]</c>, LSE <c>[Heads, TotalQ]</c>,
/// selections <c>[TotalQ, Heads, topK]</c>.
/// </summary>
internal static class TensorLayout
{
    /// <summary>Elements in q (and in the attention output).</summary>
    public static long QLength(AttentionShape shape) => (long)shape.TotalQ * shape.Heads * shape.HeadDim;

    /// <summary>Elements in k and in v.</summary>
    public static long KvLength(AttentionShape shape) => (long)shape.TotalK * shape.HeadsKv * shape.HeadDim;

    /// <summary>Offset of the head vector of query row <paramref name="row"/> (global) and head <paramref name="head"/>.</summary>
    public static int Q(AttentionShape shape, int row, int head) => (row * shape.Heads + head) * shape.HeadDim;

    /// <summary>Offset of the head vector of key row <paramref name="row"/> (global) and KV head <paramref name="kvHead"/>.</summary>
    public static int Kv(AttentionShape shape, int row, int kvHead) => (row * shape.HeadsKv + kvHead) * shape.HeadDim;

    /// <summary>Offset of the LSE of query row <paramref name="row"/> (global) and head <paramref name="head"/>.</summary>
    public static int Lse(AttentionShape shape, int row, int head) => head * shape.TotalQ + row;

    /// <summary>Offset of the first selection slot of query row <paramref name="row"/> and head <paramref name="head"/>.</summary>
    public static int Selection(AttentionShape shape, int row, int head, int topK) => (row * shape.Heads + head) * topK;

    /// <summary>Dot product of two length-<paramref name="length"/> vectors stored inside flat arrays.</summary>
    public static double Dot(double[] a, int aOffset, double[] b, int bOffset, int length)
    {
        double sum = 0;
        for (int c = 0; c < length; c++)
        {
            sum += a[aOffset + c] * b[bOffset + c];
        }

        return sum;
    }
}
