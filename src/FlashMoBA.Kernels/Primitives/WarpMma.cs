using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// Warp-wide tensor-core multiply-accumulate <c>D = A·B + D</c>, m16n8k16, fp32 accumulators: one
/// method per PTX instruction. All 32 lanes of the warp must call it together. On CUDA it is one
/// inline <c>mma.sync</c> (behind a target switch that folds at compile time, see
/// <see cref="WarpEmulation"/>); elsewhere (the CPU accelerator) an emulation gathers the operands with
/// warp shuffles in exactly the hardware fragment layout (<see cref="FragA16x16"/>,
/// <see cref="FragB16x8"/>, <see cref="Acc16x8F32"/>), so a layout mistake in a kernel fails on the CPU.
/// </summary>
internal static class WarpMma
{
    /// <summary><paramref name="acc"/> += <paramref name="a"/>·<paramref name="b"/> with fp16 inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void M16N8K16F16(ref Acc16x8F32 acc, in FragA16x16 a, in FragB16x8 b)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                // ILGPU needs the PTX text as a literal at the EmitRef call itself.
                var (d0, d1, d2, d3) = Outputs(acc);
                var (a0, a1, a2, a3, b0, b1) = Inputs(a, b);
                CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
                    + "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};",
                    ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1);
                Store(ref acc, d0, d1, d2, d3);
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                acc = Emulate(acc, a, b, bf16: false);
                break;
        }
    }

    /// <summary><paramref name="acc"/> += <paramref name="a"/>·<paramref name="b"/> with bf16 inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void M16N8K16Bf16(ref Acc16x8F32 acc, in FragA16x16 a, in FragB16x8 b)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                var (d0, d1, d2, d3) = Outputs(acc);
                var (a0, a1, a2, a3, b0, b1) = Inputs(a, b);
                CudaAsm.EmitRef("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                    + "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};",
                    ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1);
                Store(ref acc, d0, d1, d2, d3);
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                acc = Emulate(acc, a, b, bf16: true);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Ref<float>, Ref<float>, Ref<float>, Ref<float>) Outputs(in Acc16x8F32 acc) =>
        (acc.R0, acc.R1, acc.R2, acc.R3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Input<uint>, Input<uint>, Input<uint>, Input<uint>, Input<uint>, Input<uint>) Inputs(
        in FragA16x16 a, in FragB16x8 b) => (a.R0, a.R1, a.R2, a.R3, b.R0, b.R1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref Acc16x8F32 acc, Ref<float> d0, Ref<float> d1, Ref<float> d2, Ref<float> d3)
    {
        acc.R0 = d0.Value;
        acc.R1 = d1.Value;
        acc.R2 = d2.Value;
        acc.R3 = d3.Value;
    }

    /// <summary>
    /// Lane (g, t) owns D rows g and g+8, columns 2t and 2t+1. For each k-quad j it fetches A rows g and
    /// g+8 from lane 4g+j (k = 2j, 2j+1, 2j+8, 2j+9) and B columns 2t, 2t+1 from lanes 8t+j, 8t+4+j.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Acc16x8F32 Emulate(Acc16x8F32 acc, FragA16x16 a, FragB16x8 b, bool bf16)
    {
        int lane = Warp.LaneIdx;
        int g = lane >> 2, t = lane & 3;
        float c0 = acc.R0, c1 = acc.R1, c2 = acc.R2, c3 = acc.R3;
        for (int j = 0; j < 4; j++)
        {
            FragA16x16 rows = Warp.Shuffle(a, 4 * g + j);
            FragB16x8 left = Warp.Shuffle(b, 8 * t + j);
            FragB16x8 right = Warp.Shuffle(b, 8 * t + 4 + j);
            c0 += Dot2(rows.R0, left.R0, bf16) + Dot2(rows.R2, left.R1, bf16);
            c1 += Dot2(rows.R0, right.R0, bf16) + Dot2(rows.R2, right.R1, bf16);
            c2 += Dot2(rows.R1, left.R0, bf16) + Dot2(rows.R3, left.R1, bf16);
            c3 += Dot2(rows.R1, right.R0, bf16) + Dot2(rows.R3, right.R1, bf16);
        }
        return new Acc16x8F32 { R0 = c0, R1 = c1, R2 = c2, R3 = c3 };
    }

    private static float Dot2(uint x, uint y, bool bf16) => bf16
        ? HalfPack.Bf16Lo(x) * HalfPack.Bf16Lo(y) + HalfPack.Bf16Hi(x) * HalfPack.Bf16Hi(y)
        : HalfPack.F16Lo(x) * HalfPack.F16Lo(y) + HalfPack.F16Hi(x) * HalfPack.F16Hi(y);
}
