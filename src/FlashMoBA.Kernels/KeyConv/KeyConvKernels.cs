using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// The compiled key-convolution kernels of one accelerator, each loaded on first use and kept for
/// the accelerator's lifetime. Element type and width pick the instantiation in one flat switch.
/// </summary>
internal sealed class KeyConvKernels
{
    private static readonly ConditionalWeakTable<Accelerator, KeyConvKernels> ByAccelerator = new();

    private readonly Accelerator accelerator;
    private readonly Dictionary<(ElementType, int), Action<AcceleratorStream, KernelConfig, KeyConvForwardArgs>> forward = [];
    private readonly Dictionary<(ElementType, int), Action<AcceleratorStream, KernelConfig, KeyConvBackwardArgs>> backward = [];
    private readonly Lazy<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int>> reducePartials;

    private KeyConvKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        reducePartials = new(() => accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(
            KeyConvBackward.ReducePartialsKernel));
    }

    /// <summary>The kernels of <paramref name="accelerator"/>.</summary>
    public static KeyConvKernels For(Accelerator accelerator) =>
        ByAccelerator.GetValue(accelerator, a => new KeyConvKernels(a));

    /// <summary>Forward launcher for an element type and width (3 or 5).</summary>
    public Action<AcceleratorStream, KernelConfig, KeyConvForwardArgs> Forward(ElementType elementType, int width)
    {
        lock (forward)
        {
            if (!forward.TryGetValue((elementType, width), out var kernel))
            {
                Action<KeyConvForwardArgs> method = (elementType, width) switch
                {
                    (ElementType.Float16, 3) => KeyConvForward.Kernel<Float16Pairs, ConvWidth3>,
                    (ElementType.Float16, 5) => KeyConvForward.Kernel<Float16Pairs, ConvWidth5>,
                    (ElementType.BFloat16, 3) => KeyConvForward.Kernel<BFloat16Pairs, ConvWidth3>,
                    (ElementType.BFloat16, 5) => KeyConvForward.Kernel<BFloat16Pairs, ConvWidth5>,
                    _ => throw new ArgumentOutOfRangeException(nameof(width), width, "Key convolution width must be 3 or 5."),
                };
                kernel = accelerator.LoadKernel(method);
                forward.Add((elementType, width), kernel);
            }
            return kernel;
        }
    }

    /// <summary>Backward launcher for an element type and width (3 or 5).</summary>
    public Action<AcceleratorStream, KernelConfig, KeyConvBackwardArgs> Backward(ElementType elementType, int width)
    {
        lock (backward)
        {
            if (!backward.TryGetValue((elementType, width), out var kernel))
            {
                Action<KeyConvBackwardArgs> method = (elementType, width) switch
                {
                    (ElementType.Float16, 3) => KeyConvBackward.Kernel<Float16Pairs, ConvWidth3>,
                    (ElementType.Float16, 5) => KeyConvBackward.Kernel<Float16Pairs, ConvWidth5>,
                    (ElementType.BFloat16, 3) => KeyConvBackward.Kernel<BFloat16Pairs, ConvWidth3>,
                    (ElementType.BFloat16, 5) => KeyConvBackward.Kernel<BFloat16Pairs, ConvWidth5>,
                    _ => throw new ArgumentOutOfRangeException(nameof(width), width, "Key convolution width must be 3 or 5."),
                };
                kernel = accelerator.LoadKernel(method);
                backward.Add((elementType, width), kernel);
            }
            return kernel;
        }
    }

    /// <summary>The deterministic dW reduction (<see cref="KeyConvBackward.ReducePartialsKernel"/>).</summary>
    public Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int> ReducePartials =>
        reducePartials.Value;
}
