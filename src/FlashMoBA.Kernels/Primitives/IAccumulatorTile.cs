using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// A 16-row fp32 register tile in the <see cref="Acc16x8F32"/> layout: each lane holds parts of rows
/// g ("Lo") and g+8 ("Hi"). Implemented by the generated <c>Acc16xNF32</c> tiles
/// (RegisterTiles.g.cs) so that kernels generic over the head dimension and
/// <see cref="OnlineSoftmax"/> are written once; the constrained calls compile to direct code.
/// </summary>
internal interface IAccumulatorTile
{
    /// <summary>Sets every element to 0.</summary>
    void Zero();

    /// <summary>Multiplies row g by <paramref name="lo"/> and row g+8 by <paramref name="hi"/>.</summary>
    void ScaleRows(float lo, float hi);

    /// <summary>This lane's maximum of rows g and g+8 (not yet reduced across the quad).</summary>
    void RowMax(out float lo, out float hi);

    /// <summary>
    /// x ← 2^(x · <paramref name="scaleLog2"/> − base) per row; returns this lane's partial row sums.
    /// −∞ becomes 0, so masked elements drop out.
    /// </summary>
    void Exp2Rows(float scaleLog2, float baseLo, float baseHi, out float sumLo, out float sumHi);
}

/// <summary>
/// A generated <c>Acc16xNF32</c> tile seen generically: its width, MMAs into it and its stores, so that a
/// kernel generic over the head dimension calls them through one type parameter.
/// </summary>
internal interface IMmaAccumulator : IAccumulatorTile
{
    /// <summary>Columns of the tile (N).</summary>
    int Columns { get; }

    /// <summary>this += A · B for one 16-deep k-step, A and B read from shared memory.</summary>
    void MmaStep<TElem, TA, TB>(ArrayView<uint> shared, in TA a, int m0, in TB b, int n0, int k0)
        where TElem : struct, IElementOps
        where TA : struct, ISharedOperandA
        where TB : struct, ISharedOperandB;

    /// <summary>this += a · B with a 16×64 A operand in registers (e.g. P in O += P·V).</summary>
    void Mma<TElem, TB>(in FragA16x64 a, ArrayView<uint> shared, in TB b, int n0, int k0)
        where TElem : struct, IElementOps
        where TB : struct, ISharedOperandB;

    /// <summary>Scales, rounds to 16 bits and stores pairs to global memory (negative row start: skip).</summary>
    void StoreGlobal<TElem>(ArrayView<uint> global, long pairLo, long pairHi, float scale)
        where TElem : struct, IElementOps;

    /// <summary>Atomically adds to fp32 global memory (negative row start: skip).</summary>
    void AtomicAddGlobal(ArrayView<float> global, long rowLo, long rowHi);
}

/// <summary>A 16-row A operand held in registers (generated <c>FragA16xN</c>).</summary>
internal interface IFragmentTile
{
    /// <summary>Loads rows <paramref name="m0"/>..+15 from <paramref name="a"/>, starting at column <paramref name="k0"/>.</summary>
    void Load<TA>(ArrayView<uint> shared, in TA a, int m0, int k0)
        where TA : struct, ISharedOperandA;

    /// <summary>acc += this · B (16×64 accumulator), B read from shared memory.</summary>
    void MmaInto<TElem, TB>(ref Acc16x64F32 acc, ArrayView<uint> shared, in TB b, int n0, int k0)
        where TElem : struct, IElementOps
        where TB : struct, ISharedOperandB;
}
