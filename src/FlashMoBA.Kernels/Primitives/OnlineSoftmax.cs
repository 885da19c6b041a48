using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Streaming softmax over key tiles for the two rows (g, g+8) a lane holds: running maximum (raw
/// scores) and this lane's partial row sum of 2^(s·scaleLog2 − max·scaleLog2). <c>Rescale</c>
/// folds in one score tile and rescales the output accumulator; <c>Finish</c> reduces the
/// sums across the quad, normalises the output and returns the natural-log LSE. A row that saw no
/// key (all −∞) ends with output 0 and LSE +∞ instead of NaN. <c>shared</c> is the kernel's dynamic
/// shared-memory view (the CPU emulation exchanges through it; see <see cref="QuadReduce"/>).
/// </summary>
internal struct OnlineSoftmax
{
    /// <summary>Running maximum of row g (−∞ until a key is seen).</summary>
    public float MaxLo;

    /// <summary>Running maximum of row g+8.</summary>
    public float MaxHi;

    /// <summary>This lane's partial sum of row g.</summary>
    public float SumLo;

    /// <summary>This lane's partial sum of row g+8.</summary>
    public float SumHi;

    /// <summary>The empty state: no keys seen.</summary>
    public static OnlineSoftmax Empty => new()
    {
        MaxLo = float.NegativeInfinity,
        MaxHi = float.NegativeInfinity,
    };

    /// <summary>
    /// Folds score tile <paramref name="scores"/> in: updates the row maxima (quad-reduced through the
    /// CPU emulation's scratch in <paramref name="shared"/>), rescales <paramref name="output"/> by
    /// 2^((old − new)·scaleLog2) and turns the scores into probabilities 2^(s·scaleLog2 − new·scaleLog2),
    /// adding them to the row sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Rescale<TScores, TOutput>(ref TScores scores, ref TOutput output, float scaleLog2, ArrayView<uint> shared)
        where TScores : struct, IAccumulatorTile
        where TOutput : struct, IAccumulatorTile
    {
        scores.RowMax(out float tileLo, out float tileHi);
        QuadReduce.Max(ref tileLo, ref tileHi, shared);
        Fold(ref scores, ref output, scaleLog2, tileLo, tileHi);
    }

    /// <summary>
    /// <see cref="Rescale{TScores, TOutput}(ref TScores, ref TOutput, float, ArrayView{uint})"/> for kernels
    /// without a dynamic shared-memory view: the quad reduction uses shuffles on every accelerator.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Rescale<TScores, TOutput>(ref TScores scores, ref TOutput output, float scaleLog2)
        where TScores : struct, IAccumulatorTile
        where TOutput : struct, IAccumulatorTile
    {
        scores.RowMax(out float tileLo, out float tileHi);
        Fold(ref scores, ref output, scaleLog2, QuadReduce.Max(tileLo), QuadReduce.Max(tileHi));
    }

    /// <summary>
    /// Normalises <paramref name="output"/> by the quad-reduced row sums and returns
    /// LSE = max·scale + ln(sum) per row (+∞ and output 0 for a row that saw no key).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish<TOutput>(ref TOutput output, float scale, ArrayView<uint> shared, out float lseLo, out float lseHi)
        where TOutput : struct, IAccumulatorTile
    {
        float sumLo = SumLo, sumHi = SumHi;
        QuadReduce.Sum(ref sumLo, ref sumHi, shared);
        Normalise(ref output, scale, sumLo, sumHi, out lseLo, out lseHi);
    }

    /// <summary><see cref="Finish{TOutput}(ref TOutput, float, ArrayView{uint}, out float, out float)"/> with shuffles only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Finish<TOutput>(ref TOutput output, float scale, out float lseLo, out float lseHi)
        where TOutput : struct, IAccumulatorTile =>
        Normalise(ref output, scale, QuadReduce.Sum(SumLo), QuadReduce.Sum(SumHi), out lseLo, out lseHi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Fold<TScores, TOutput>(ref TScores scores, ref TOutput output, float scaleLog2, float tileLo, float tileHi)
        where TScores : struct, IAccumulatorTile
        where TOutput : struct, IAccumulatorTile
    {
        float maxLo = XMath.Max(MaxLo, tileLo);
        float maxHi = XMath.Max(MaxHi, tileHi);
        // A row with no key yet keeps max −∞: use base 0 so that 2^(−∞ − base) is 0, never NaN.
        float baseLo = maxLo == float.NegativeInfinity ? 0f : maxLo * scaleLog2;
        float baseHi = maxHi == float.NegativeInfinity ? 0f : maxHi * scaleLog2;
        float correctionLo = XMath.Exp2(MaxLo * scaleLog2 - baseLo);
        float correctionHi = XMath.Exp2(MaxHi * scaleLog2 - baseHi);
        output.ScaleRows(correctionLo, correctionHi);
        scores.Exp2Rows(scaleLog2, baseLo, baseHi, out float sumLo, out float sumHi);
        SumLo = SumLo * correctionLo + sumLo;
        SumHi = SumHi * correctionHi + sumHi;
        MaxLo = maxLo;
        MaxHi = maxHi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Normalise<TOutput>(ref TOutput output, float scale, float sumLo, float sumHi,
        out float lseLo, out float lseHi)
        where TOutput : struct, IAccumulatorTile
    {
        bool emptyLo = sumLo == 0f, emptyHi = sumHi == 0f;
        output.ScaleRows(emptyLo ? 0f : 1f / sumLo, emptyHi ? 0f : 1f / sumHi);
        lseLo = emptyLo ? float.PositiveInfinity : MaxLo * scale + XMath.Log(sumLo);
        lseHi = emptyHi ? float.PositiveInfinity : MaxHi * scale + XMath.Log(sumHi);
    }
}
