using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// A global tensor of 16-byte chunks as the source of <see cref="AsyncCopy"/>: the view (read by the CPU
/// path) and the device address of its chunk 0 (read by the CUDA path). ILGPU cannot turn a view into an
/// address inside a kernel (its effective-address methods are host-only), so the host takes the address
/// once when it builds the kernel arguments (DESIGN.md §5).
/// </summary>
internal readonly struct AsyncSource
{
    /// <summary>The chunks.</summary>
    public readonly ArrayView<Chunk16> View;

    /// <summary>Address of <c>View[0]</c> in the accelerator's address space (0 for an empty view).</summary>
    public readonly long Address;

    /// <summary>Wraps <paramref name="view"/>; call on the host.</summary>
    public AsyncSource(ArrayView<Chunk16> view)
    {
        View = view;
        Address = view.IsValid && view.Length > 0 ? view.LoadEffectiveAddressAsPtr().ToInt64() : 0;
    }
}

/// <summary>
/// <c>cp.async.cg</c>: 16-byte global→shared copies that bypass registers and L1 and complete in the
/// background, so a kernel issues the next tile's loads and computes the current tile while they land
/// (software pipelining without holding the data in registers). Copies a thread issues form a group at
/// <see cref="Commit"/>; <see cref="WaitAll"/> / <see cref="WaitAllButNewest"/> block the thread until its
/// own groups have landed, and a group barrier then makes every thread's copies visible to the CTA.
/// The CPU path copies at once, so commit and wait have nothing to do there and the same kernel runs
/// (and is tested) on the CPU accelerator.
/// </summary>
internal static class AsyncCopy
{
    /// <summary>Bytes per copy (one <see cref="Chunk16"/>).</summary>
    public const int Bytes = 16;

    /// <summary>
    /// Copies chunk <paramref name="index"/> of <paramref name="source"/> to chunk
    /// <paramref name="sharedChunk"/> of dynamic shared memory, or writes 16 zero bytes when
    /// <paramref name="valid"/> is false (ragged rows; nothing is read then). <paramref name="shared"/> is
    /// the whole dynamic shared-memory view (only the CPU path reads it; the CUDA path addresses from
    /// <c>__dyn_shared_alloca</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Chunk(in AsyncSource source, long index, bool valid, ArrayView<Chunk16> shared, int sharedChunk)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                // src-size 0 zero-fills the destination without reading: chunk 0 stands in as a valid address.
                uint destination = LdMatrix.SharedBase() + (uint)(sharedChunk * Bytes);
                long from = source.Address + (valid ? index : 0L) * Bytes;
                uint sourceBytes = valid ? (uint)Bytes : 0u;
                CudaAsm.Emit("cp.async.cg.shared.global [%0], [%1], 16, %2;", destination, from, sourceBytes);
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                shared[sharedChunk] = valid ? source.View[index] : default;
                break;
        }
    }

    /// <summary>Closes the group of this thread's copies issued since the last commit (an empty group is fine).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Commit()
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("cp.async.commit_group;");
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                break;
        }
    }

    /// <summary>Waits until every committed group of this thread has landed in shared memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WaitAll()
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("cp.async.wait_group 0;");
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                break;
        }
    }

    /// <summary>Waits until every committed group of this thread but the newest one has landed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WaitAllButNewest()
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                CudaAsm.Emit("cp.async.wait_group 1;");
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                break;
        }
    }
}
