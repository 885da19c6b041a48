using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// One warp's 16 output rows over the whole head dimension: one 64-column accumulator at d = 64, two
/// at d = 128. It is an <see cref="IAccumulatorTile"/> so that <see cref="OnlineSoftmax"/> rescales
/// and normalises both halves at once; the branch on the head dimension folds away per specialisation.
/// </summary>
internal struct DenseOutputTile<THeadDim> : IAccumulatorTile
    where THeadDim : struct, IMobaHeadDim
{
    /// <summary>Columns 0..63.</summary>
    public Acc16x64F32 Left;

    /// <summary>Columns 64..127 (d = 128 only).</summary>
    public Acc16x64F32 Right;

    private static bool Wide => default(THeadDim).Value == 128;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Zero()
    {
        Left.Zero();
        if (Wide) Right.Zero();
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ScaleRows(float lo, float hi)
    {
        Left.ScaleRows(lo, hi);
        if (Wide) Right.ScaleRows(lo, hi);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RowMax(out float lo, out float hi)
    {
        Left.RowMax(out lo, out hi);
        if (!Wide) return;
        Right.RowMax(out float rightLo, out float rightHi);
        lo = ILGPU.Algorithms.XMath.Max(lo, rightLo);
        hi = ILGPU.Algorithms.XMath.Max(hi, rightHi);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exp2Rows(float scaleLog2, float baseLo, float baseHi, out float sumLo, out float sumHi)
    {
        Left.Exp2Rows(scaleLog2, baseLo, baseHi, out sumLo, out sumHi);
        if (!Wide) return;
        Right.Exp2Rows(scaleLog2, baseLo, baseHi, out float rightLo, out float rightHi);
        sumLo += rightLo;
        sumHi += rightHi;
    }

    /// <summary>this += probabilities · V[keyRow0..keyRow0+63, :] (V read from shared memory through <paramref name="values"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddProbabilitiesTimesValues<TElem, TValues>(in FragA16x64 probabilities, ILGPU.ArrayView<uint> words,
        in TValues values, int keyRow0)
        where TElem : struct, IElementOps
        where TValues : struct, ISharedOperandB
    {
        Left.Mma<TElem, TValues>(probabilities, words, values, 0, keyRow0);
        if (Wide) Right.Mma<TElem, TValues>(probabilities, words, values, 64, keyRow0);
    }

    /// <summary>Rounds to 16 bits and stores row g at pair <paramref name="pairLo"/>, row g+8 at <paramref name="pairHi"/> (negative: skipped).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreGlobal<TElem>(ILGPU.ArrayView<uint> global, long pairLo, long pairHi)
        where TElem : struct, IElementOps
    {
        Left.StoreGlobal<TElem>(global, pairLo, pairHi, 1f);
        if (Wide) Right.StoreGlobal<TElem>(global, pairLo < 0 ? -1 : pairLo + 32, pairHi < 0 ? -1 : pairHi + 32, 1f);
    }
}
