using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Picks the compiled instantiation of a key-convolution kernel: element type and width become the
/// kernel's generic arguments (<c>Kernel&lt;TElem, TWidth&gt;</c>), so each combination is its own
/// code with no runtime branch, compiled once per accelerator by <see cref="KernelCache"/>.
/// </summary>
internal static class KeyConvSpecialization
{
    /// <summary>The generic arguments for <paramref name="elementType"/> and width 3 or 5.</summary>
    public static Type[] TypesFor(ElementType elementType, int width) =>
    [
        elementType == ElementType.BFloat16 ? typeof(Bf16Ops) : typeof(Fp16Ops),
        width switch
        {
            3 => typeof(ConvWidth3),
            5 => typeof(ConvWidth5),
            _ => throw new ArgumentOutOfRangeException(nameof(width), width, "Key convolution width must be 3 or 5."),
        },
    ];

    /// <summary>The compiled forward kernel.</summary>
    public static CachedKernel<KeyConvForwardArgs> Forward(KernelCache cache, ElementType elementType, int width) =>
        cache.Get<KeyConvForwardArgs>(typeof(KeyConvForward), nameof(KeyConvForward.Kernel),
            TypesFor(elementType, width));

    /// <summary>The compiled backward kernel.</summary>
    public static CachedKernel<KeyConvBackwardArgs> Backward(KernelCache cache, ElementType elementType, int width) =>
        cache.Get<KeyConvBackwardArgs>(typeof(KeyConvBackward), nameof(KeyConvBackward.Kernel),
            TypesFor(elementType, width));

    /// <summary>The compiled dW reduction.</summary>
    public static CachedKernel<ReducePartialsArgs> ReducePartials(KernelCache cache) =>
        cache.Get<ReducePartialsArgs>(typeof(KeyConvBackward), nameof(KeyConvBackward.ReducePartialsKernel));
}
