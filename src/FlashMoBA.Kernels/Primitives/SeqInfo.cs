using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Where one sequence of a varlen batch lives (DESIGN.md §3), computed once per CTA from the
/// <c>cuSeqlens</c> prefix sums so kernels never redo that arithmetic.
/// </summary>
internal readonly struct SeqInfo
{
    /// <summary>First query row (token) of the sequence in <c>[totalQ, …]</c>.</summary>
    public readonly int QStart;

    /// <summary>First key row of the sequence in <c>[totalK, …]</c>.</summary>
    public readonly int KStart;

    /// <summary>Query rows of the sequence (Nq).</summary>
    public readonly int LenQ;

    /// <summary>Key rows of the sequence (Nk).</summary>
    public readonly int LenK;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SeqInfo(int qStart, int qEnd, int kStart, int kEnd)
    {
        QStart = qStart;
        LenQ = qEnd - qStart;
        KStart = kStart;
        LenK = kEnd - kStart;
    }

    /// <summary>
    /// Bottom-right causal alignment: query row t may see keys <c>≤ t + CausalOffset</c>
    /// (<c>Nk − Nq</c>); rows with <c>t + CausalOffset &lt; 0</c> see nothing.
    /// </summary>
    public int CausalOffset => LenK - LenQ;

    /// <summary>Reads sequence <paramref name="batch"/> from the prefix sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SeqInfo Load(ArrayView<int> cuSeqlensQ, ArrayView<int> cuSeqlensK, int batch) =>
        new(cuSeqlensQ[batch], cuSeqlensQ[batch + 1], cuSeqlensK[batch], cuSeqlensK[batch + 1]);

    /// <summary>Last key a query row sees: <c>min(row + offset, LenK − 1)</c> if causal, else <c>LenK − 1</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int LastKey(int queryRow, bool causal) =>
        causal ? IntrinsicMath.Min(queryRow + CausalOffset, LenK - 1) : LenK - 1;
}
