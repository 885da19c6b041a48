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
