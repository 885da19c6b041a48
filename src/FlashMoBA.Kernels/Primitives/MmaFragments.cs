namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// A operand of <c>mma.m16n8k16</c> (16×16, row-major, two 16-bit values per register), held by one
/// lane. With <c>g = lane / 4</c>, <c>t = lane % 4</c>: <see cref="R0"/> = row g, columns 2t, 2t+1;
/// <see cref="R1"/> = row g+8, columns 2t, 2t+1; <see cref="R2"/> = row g, columns 2t+8, 2t+9;
/// <see cref="R3"/> = row g+8, columns 2t+8, 2t+9 (lower column in the low half).
/// </summary>
internal struct FragA16x16
{
    /// <summary>Row g, columns 2t and 2t+1.</summary>
    public uint R0;

    /// <summary>Row g+8, columns 2t and 2t+1.</summary>
    public uint R1;

    /// <summary>Row g, columns 2t+8 and 2t+9.</summary>
    public uint R2;

    /// <summary>Row g+8, columns 2t+8 and 2t+9.</summary>
    public uint R3;
}

/// <summary>
/// B operand of <c>mma.m16n8k16</c> (16×8, "col": stored as 8 columns of 16 k-values), held by one
/// lane: <see cref="R0"/> = k 2t, 2t+1 of column g; <see cref="R1"/> = k 2t+8, 2t+9 of column g.
/// </summary>
internal struct FragB16x8
{
    /// <summary>Column g, k = 2t and 2t+1.</summary>
    public uint R0;

    /// <summary>Column g, k = 2t+8 and 2t+9.</summary>
    public uint R1;
}

/// <summary>
/// fp32 C/D operand of <c>mma.m16n8k16</c> (16×8), held by one lane: <see cref="R0"/>, <see cref="R1"/>
/// = row g, columns 2t, 2t+1; <see cref="R2"/>, <see cref="R3"/> = row g+8, columns 2t, 2t+1. Two
/// horizontally adjacent accumulators packed pairwise form exactly one <see cref="FragA16x16"/>
/// (left tile → R0/R1, right tile → R2/R3), which is how P = softmax(S) feeds P·V without shared memory.
/// </summary>
internal struct Acc16x8F32
{
    /// <summary>Row g, column 2t.</summary>
    public float R0;

    /// <summary>Row g, column 2t+1.</summary>
    public float R1;

    /// <summary>Row g+8, column 2t.</summary>
    public float R2;

    /// <summary>Row g+8, column 2t+1.</summary>
    public float R3;
}
