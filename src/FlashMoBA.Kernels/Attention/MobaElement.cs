using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Host-side choice of the kernel specialisations for a storage type and a head dimension.</summary>
internal static class MobaElement
{
    /// <summary>The <see cref="IElementOps"/> struct of storage type <typeparamref name="T"/>.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not fp16 or bf16.</exception>
    public static Type OpsOf<T>()
        where T : unmanaged =>
        typeof(T) == typeof(ILGPU.Half) || typeof(T) == typeof(System.Half) ? typeof(Fp16Ops)
        : typeof(T) == typeof(BFloat16) ? typeof(Bf16Ops)
        : throw new ArgumentException($"element type {typeof(T).Name} is not fp16 or bf16.", nameof(T));

    /// <summary>The <see cref="IMobaHeadDim"/> struct of <paramref name="headDim"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="headDim"/> is not 64 or 128.</exception>
    public static Type HeadDimOf(int headDim) => headDim switch
    {
        64 => typeof(MobaHeadDim64),
        128 => typeof(MobaHeadDim128),
        _ => throw new ArgumentException($"head dim {headDim} is not supported (64 or 128).", nameof(headDim)),
    };
}
