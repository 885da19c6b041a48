using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// <c>ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16</c>: the warp loads four 8×8 matrices of
/// 16-bit values from shared memory. Lanes 8i..8i+7 each pass the byte offset (into dynamic shared
/// memory) of one 16-byte row of matrix i. Result register i holds matrix i; without <c>.trans</c>
/// lane l gets row l/4, elements 2(l%4) and 2(l%4)+1, with <c>.trans</c> it gets elements
/// [2(l%4)][l/4] and [2(l%4)+1][l/4] — exactly the A/B fragment layouts of <see cref="WarpMma"/>.
/// The <c>shared</c> view must be the whole dynamic shared-memory view (its offset 0 is the
/// address the CUDA path reads from <c>__dyn_shared_alloca</c>); only the CPU path reads it.
/// </summary>
internal static class LdMatrix
{
    /// <summary>Loads four 8×8 matrices; see the class remarks for the layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FragA16x16 X4(ArrayView<uint> shared, int rowByteOffset)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                var address = new Input<uint> { Value = SharedBase() + (uint)rowByteOffset };
                var r0 = default(Output<uint>);
                var r1 = default(Output<uint>);
                var r2 = default(Output<uint>);
                var r3 = default(Output<uint>);
                CudaAsm.EmitRef("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];",
                    ref r0, ref r1, ref r2, ref r3, ref address);
                return new FragA16x16 { R0 = r0.Value, R1 = r1.Value, R2 = r2.Value, R3 = r3.Value };
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                return Emulate(shared, rowByteOffset);
        }
    }

    /// <summary>CPU path of <see cref="X4"/>: row addresses fetched from the lanes that supply them.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static FragA16x16 Emulate(ArrayView<uint> shared, int rowByteOffset)
    {
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        return new FragA16x16
        {
            R0 = shared[(Warp.Shuffle(rowByteOffset, g) >> 2) + t],
            R1 = shared[(Warp.Shuffle(rowByteOffset, 8 + g) >> 2) + t],
            R2 = shared[(Warp.Shuffle(rowByteOffset, 16 + g) >> 2) + t],
            R3 = shared[(Warp.Shuffle(rowByteOffset, 24 + g) >> 2) + t],
        };
    }

    /// <summary>Loads four 8×8 matrices transposed; see the class remarks for the layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FragA16x16 X4Trans(ArrayView<uint> shared, int rowByteOffset)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                var address = new Input<uint> { Value = SharedBase() + (uint)rowByteOffset };
                var r0 = default(Output<uint>);
                var r1 = default(Output<uint>);
                var r2 = default(Output<uint>);
                var r3 = default(Output<uint>);
                CudaAsm.EmitRef("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];",
                    ref r0, ref r1, ref r2, ref r3, ref address);
                return new FragA16x16 { R0 = r0.Value, R1 = r1.Value, R2 = r2.Value, R3 = r3.Value };
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                return EmulateTrans(shared, rowByteOffset);
        }
    }

    /// <summary>CPU path of <see cref="X4Trans"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static FragA16x16 EmulateTrans(ArrayView<uint> shared, int rowByteOffset)
    {
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        return new FragA16x16
        {
            R0 = TransposedPair(shared, rowByteOffset, 0, g, t),
            R1 = TransposedPair(shared, rowByteOffset, 1, g, t),
            R2 = TransposedPair(shared, rowByteOffset, 2, g, t),
            R3 = TransposedPair(shared, rowByteOffset, 3, g, t),
        };
    }

    /// <summary>Address of dynamic shared memory in the shared window; only called on the CUDA side of a target switch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint SharedBase()
    {
        CudaAsm.Emit("mov.u32 %0, __dyn_shared_alloca;", out uint address);
        return address;
    }

    /// <summary>Element g of rows 2t and 2t+1 of matrix <paramref name="matrix"/>, packed.</summary>
    private static uint TransposedPair(ArrayView<uint> shared, int rowByteOffset, int matrix, int g, int t)
    {
        int evenRow = Warp.Shuffle(rowByteOffset, 8 * matrix + 2 * t) + 2 * g;
        int oddRow = Warp.Shuffle(rowByteOffset, 8 * matrix + 2 * t + 1) + 2 * g;
        return Half16(shared, evenRow) | (Half16(shared, oddRow) << 16);
    }

    private static uint Half16(ArrayView<uint> shared, int byteOffset) =>
        (shared[byteOffset >> 2] >> ((byteOffset & 2) << 3)) & 0xFFFFu;
}
