using System.Runtime.CompilerServices;
using ILGPU;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// One warp's 16 query rows over the whole head dimension, held in registers as MMA A fragments for
/// a whole query tile (as FlashAttention-2 keeps Q): every key tile's scores are then one fully
/// unrolled sequence of MMAs reading only K from shared memory. Only the fragment of the kernel's
/// head dimension is used; the other stays empty and is removed by the compiler.
/// </summary>
internal struct QueryFragments
{
    /// <summary>Rows × 128 columns (d = 128).</summary>
    public FragA16x128 Wide;

    /// <summary>Rows × 64 columns (d = 64).</summary>
    public FragA16x64 Narrow;

    /// <summary>Loads rows <paramref name="m0"/>..+15 of the tile <paramref name="source"/> (row-major [rows][d]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static QueryFragments Load<THeadDim>(ArrayView<uint> words, in TileA source, int m0)
        where THeadDim : struct, IMobaHeadDim
    {
        var fragments = default(QueryFragments);
        if (default(THeadDim).Value == 128)
            fragments.Wide.Load(words, source, m0, 0);
        else
            fragments.Narrow.Load(words, source, m0, 0);
        return fragments;
    }

    /// <summary>scores += rows · K[keyRow0..keyRow0+63, :]ᵀ (64 keys, the whole head dimension).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Scores<TElem, THeadDim>(ref Acc16x64F32 scores, ArrayView<uint> words, in TransposedTileB keys,
        int keyRow0)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        if (default(THeadDim).Value == 128)
            scores.Mma<TElem, TransposedTileB>(Wide, words, keys, keyRow0, 0);
        else
            scores.Mma<TElem, TransposedTileB>(Narrow, words, keys, keyRow0, 0);
    }

    /// <summary>scores += rows · T[column0..column0+31, :]ᵀ (32 columns, the whole head dimension).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Scores<TElem, THeadDim>(ref Acc16x32F32 scores, ArrayView<uint> words, in TransposedTileB other,
        int column0)
        where TElem : struct, IElementOps
        where THeadDim : struct, IMobaHeadDim
    {
        if (default(THeadDim).Value == 128)
            scores.Mma<TElem, TransposedTileB>(Wide, words, other, column0, 0);
        else
            scores.Mma<TElem, TransposedTileB>(Narrow, words, other, column0, 0);
    }
}
