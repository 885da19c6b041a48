using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// An fp32 buffer in global memory that warps add register tiles into (the MoBA forward output, dQ).
/// On CUDA four adjacent values go out as one vector reduction, <c>red.relaxed.gpu.global.add.v4.f32</c>
/// (sm_90, PTX ISA 8.1): a quarter of the reduction instructions and L2 requests of scalar adds, whose
/// 4-byte lanes only partly fill each 32-byte sector. Register tiles reach four adjacent values by adding into
/// buffers in <see cref="InterleavedColumns"/> order, so the buffer must be 16-byte aligned. Inline PTX needs
/// the element's address, and ILGPU cannot form one from a view inside a kernel (DESIGN.md §5), so the host records the view's device address here, next to the view the
/// CPU emulation uses. The kernel's PTX must target sm_90 (<see cref="Runtime.PtxTarget"/>).
/// </summary>
internal readonly struct GlobalAccumulator
{
    /// <summary>Alignment of the buffer's first element in bytes: four floats are one 16-byte access.</summary>
    public const int AlignmentBytes = 4 * sizeof(float);

    /// <summary>The fp32 elements.</summary>
    public readonly ArrayView<float> View;

    /// <summary>Device address of <c>View[0]</c> (the CPU address on the CPU accelerator, where it is unused).</summary>
    public readonly long Address;

    /// <summary>
    /// Wraps <paramref name="view"/> (host side). Throws <see cref="ArgumentException"/> when its first
    /// element is not <see cref="AlignmentBytes"/>-aligned.
    /// </summary>
    public GlobalAccumulator(ArrayView<float> view)
    {
        View = view;
        Address = view.IsValid && view.Length > 0 ? view.LoadEffectiveAddressAsPtr().ToInt64() : 0;
        if (Address % AlignmentBytes != 0)
        {
            throw new ArgumentException(
                $"An fp32 accumulator must start on an {AlignmentBytes}-byte boundary (vector reductions); " +
                $"this view starts at address 0x{Address:x}.", nameof(view));
        }
    }

    /// <summary>
    /// Adds <paramref name="x"/>, <paramref name="y"/>, <paramref name="z"/>, <paramref name="w"/> to elements
    /// <paramref name="index"/> .. <paramref name="index"/> + 3 with one <c>red.relaxed.gpu.global.add.v4.f32</c>;
    /// the caller guarantees a 16-byte aligned address (index a multiple of 4 in a 16-byte aligned buffer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddQuad(long index, float x, float y, float z, float w)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("red.relaxed.gpu.global.add.v4.f32 [%0], {%1, %2, %3, %4};", Address + index * sizeof(float),
                    x, y, z, w);
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                WarpEmulation.AtomicAdd(View, index, x);
                WarpEmulation.AtomicAdd(View, index + 1, y);
                WarpEmulation.AtomicAdd(View, index + 2, z);
                WarpEmulation.AtomicAdd(View, index + 3, w);
                break;
        }
    }
}
