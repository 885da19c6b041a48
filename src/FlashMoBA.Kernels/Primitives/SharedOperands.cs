using System.Runtime.CompilerServices;
using ILGPU;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>An A operand (m16×k16 fragments) read from a <see cref="SharedTile"/> with <c>ldmatrix</c>.</summary>
internal interface ISharedOperandA
{
    /// <summary>The A fragment for rows m0..m0+15, k0..k0+15 (both multiples of 8; m0, k0 of the math).</summary>
    FragA16x16 Load(ArrayView<uint> shared, int m0, int k0);

    /// <summary>The 16 bits of A[m][k], read directly (the CPU emulation's path; no ldmatrix).</summary>
    uint Bits(ArrayView<uint> shared, int m, int k);
}

/// <summary>A B operand (k16×n8 fragments) read from a <see cref="SharedTile"/> with <c>ldmatrix</c>.</summary>
internal interface ISharedOperandB
{
    /// <summary>B fragments for k0..k0+15 and columns n0..n0+7 (<paramref name="left"/>), n0+8..n0+15 (<paramref name="right"/>).</summary>
    void Load2(ArrayView<uint> shared, int n0, int k0, out FragB16x8 left, out FragB16x8 right);

    /// <summary>The 16 bits of B[k][n], read directly (the CPU emulation's path; no ldmatrix).</summary>
    uint Bits(ArrayView<uint> shared, int k, int n);
}

/// <summary>A = T with T stored [m][k] (e.g. Q or dS as the left factor).</summary>
internal readonly struct TileA : ISharedOperandA
{
    private readonly SharedTile tile;

    /// <summary>Wraps <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TileA(SharedTile tile) => this.tile = tile;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FragA16x16 Load(ArrayView<uint> shared, int m0, int k0)
    {
        // Lanes 0-15 address rows m0..m0+15 at chunk k0/8 (matrices 0, 1), lanes 16-31 the next chunk.
        int lane = Warp.LaneIdx;
        return LdMatrix.X4(shared, tile.ByteOffset(m0 + (lane & 15), (k0 >> 3) + (lane >> 4)));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int m, int k) => tile.Element(shared, m, k);
}

/// <summary>A = Tᵀ with T stored [k][m] (e.g. Pᵀ, dSᵀ for dV, dK), read with <c>ldmatrix.trans</c>.</summary>
internal readonly struct TransposedTileA : ISharedOperandA
{
    private readonly SharedTile tile;

    /// <summary>Wraps <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TransposedTileA(SharedTile tile) => this.tile = tile;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FragA16x16 Load(ArrayView<uint> shared, int m0, int k0)
    {
        // Matrix i: T rows k0 + 8(i/2) .. +7, chunk m0/8 + i%2 (R0 = m 0-7 × k 0-7, R1 = m 8-15, R2 = k 8-15, ...).
        int lane = Warp.LaneIdx, matrix = lane >> 3;
        int row = k0 + (lane & 7) + ((matrix >> 1) << 3);
        return LdMatrix.X4Trans(shared, tile.ByteOffset(row, (m0 >> 3) + (matrix & 1)));
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int m, int k) => tile.Element(shared, k, m);
}

/// <summary>B = Tᵀ with T stored [n][k] (e.g. Kᵀ in S = Q·Kᵀ, Vᵀ in dP = dO·Vᵀ).</summary>
internal readonly struct TransposedTileB : ISharedOperandB
{
    private readonly SharedTile tile;

    /// <summary>Wraps <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TransposedTileB(SharedTile tile) => this.tile = tile;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load2(ArrayView<uint> shared, int n0, int k0, out FragB16x8 left, out FragB16x8 right)
    {
        // Matrix i: T rows n0 + 8(i/2) .. +7, chunk k0/8 + i%2 → left = (R0, R1), right = (R2, R3).
        int lane = Warp.LaneIdx, matrix = lane >> 3;
        int row = n0 + (lane & 7) + ((matrix >> 1) << 3);
        var m = LdMatrix.X4(shared, tile.ByteOffset(row, (k0 >> 3) + (matrix & 1)));
        left = new FragB16x8 { R0 = m.R0, R1 = m.R1 };
        right = new FragB16x8 { R0 = m.R2, R1 = m.R3 };
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int k, int n) => tile.Element(shared, n, k);
}

/// <summary>B = T with T stored [k][n] (e.g. V in O = P·V, dO in dV = Pᵀ·dO, K in dQ = dS·K).</summary>
internal readonly struct TileB : ISharedOperandB
{
    private readonly SharedTile tile;

    /// <summary>Wraps <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TileB(SharedTile tile) => this.tile = tile;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Load2(ArrayView<uint> shared, int n0, int k0, out FragB16x8 left, out FragB16x8 right)
    {
        // Matrix i: T rows k0 + 8(i%2) .. +7, chunk n0/8 + i/2 → left = (R0, R1), right = (R2, R3).
        int lane = Warp.LaneIdx, matrix = lane >> 3;
        int row = k0 + (lane & 7) + ((matrix & 1) << 3);
        var m = LdMatrix.X4Trans(shared, tile.ByteOffset(row, (n0 >> 3) + (matrix >> 1)));
        left = new FragB16x8 { R0 = m.R0, R1 = m.R1 };
        right = new FragB16x8 { R0 = m.R2, R1 = m.R3 };
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Bits(ArrayView<uint> shared, int k, int n) => tile.Element(shared, k, n);
}
