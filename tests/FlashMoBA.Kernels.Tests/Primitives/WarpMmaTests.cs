using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;
using Half = System.Half;

namespace FlashMoBA.Kernels.Tests.Primitives;

[Collection(AcceleratorCollection.Name)]
public sealed class WarpMmaTests(AcceleratorFixture fixture)
{
    private const int WarpsPerGroup = 2, Groups = 2, Warps = WarpsPerGroup * Groups;

    /// <summary>
    /// fp32 accumulation of 16 exact products: the only error is fp32 rounding of the partial sums,
    /// bounded by 16 · 2^-24 of Σ|a·b| + |c|; 2^-18 leaves 4x headroom.
    /// </summary>
    private const double RelativeTolerance = 1.0 / (1 << 18);

    internal readonly struct MmaTestArgs(ArrayView<ushort> a, ArrayView<ushort> b, ArrayView<float> c)
    {
        /// <summary>Per warp a row-major 16×16 matrix of 16-bit values.</summary>
        public readonly ArrayView<ushort> A = a;

        /// <summary>Per warp a row-major 16(k)×8(n) matrix of 16-bit values.</summary>
        public readonly ArrayView<ushort> B = b;

        /// <summary>Per warp a row-major 16×8 fp32 matrix, accumulated in place.</summary>
        public readonly ArrayView<float> C = c;
    }

    /// <summary>Each warp builds its fragments from the documented layout, multiplies, writes C back.</summary>
    internal static void MmaKernel<TElem>(MmaTestArgs args)
        where TElem : struct, IElementOps
    {
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        int warp = Grid.IdxX * Group.DimX / Warp.WarpSize + Warp.WarpIdx;
        int a0 = warp * 256, b0 = warp * 128, c0 = warp * 128;
        var a = new FragA16x16
        {
            R0 = Pair(args.A, a0 + g * 16 + 2 * t, 1),
            R1 = Pair(args.A, a0 + (g + 8) * 16 + 2 * t, 1),
            R2 = Pair(args.A, a0 + g * 16 + 2 * t + 8, 1),
            R3 = Pair(args.A, a0 + (g + 8) * 16 + 2 * t + 8, 1),
        };
        var b = new FragB16x8
        {
            R0 = Pair(args.B, b0 + 2 * t * 8 + g, 8),
            R1 = Pair(args.B, b0 + (2 * t + 8) * 8 + g, 8),
        };
        var acc = new Acc16x8F32
        {
            R0 = args.C[c0 + g * 8 + 2 * t],
            R1 = args.C[c0 + g * 8 + 2 * t + 1],
            R2 = args.C[c0 + (g + 8) * 8 + 2 * t],
            R3 = args.C[c0 + (g + 8) * 8 + 2 * t + 1],
        };
        default(TElem).Mma(ref acc, a, b);
        args.C[c0 + g * 8 + 2 * t] = acc.R0;
        args.C[c0 + g * 8 + 2 * t + 1] = acc.R1;
        args.C[c0 + (g + 8) * 8 + 2 * t] = acc.R2;
        args.C[c0 + (g + 8) * 8 + 2 * t + 1] = acc.R3;
    }

    private static uint Pair(ArrayView<ushort> view, int index, int stride) =>
        view[index] | ((uint)view[index + stride] << 16);

    [Theory]
    [InlineData(ElementType.Float16)]
    [InlineData(ElementType.BFloat16)]
    public void M16N8K16_RandomTiles_MatchesScalarProduct(ElementType type) =>
        Check(fixture.Accelerator, type);

    /// <summary>The check itself, shared with the GPU self-check (benchmarks/gpu/primitives-check).</summary>
    internal static void Check(Accelerator accelerator, ElementType type)
    {
        var random = new Random(type == ElementType.Float16 ? 11 : 12);
        var a = RandomBits(random, Warps * 256, type);
        var b = RandomBits(random, Warps * 128, type);
        var c = new float[Warps * 128];
        for (int i = 0; i < c.Length; i++) c[i] = (float)(random.NextDouble() * 4 - 2);

        using var aBuffer = accelerator.Allocate1D(a);
        using var bBuffer = accelerator.Allocate1D(b);
        using var cBuffer = accelerator.Allocate1D(c);
        var specialization = type == ElementType.Float16 ? typeof(Fp16Ops) : typeof(Bf16Ops);
        var kernel = KernelCache.For(accelerator).Get<MmaTestArgs>(typeof(WarpMmaTests), nameof(MmaKernel), specialization);
        kernel.Launch(accelerator.DefaultStream, new KernelConfig(Groups, WarpsPerGroup * 32),
            new MmaTestArgs(aBuffer.View, bBuffer.View, cBuffer.View));
        var result = cBuffer.GetAsArray1D();

        for (int w = 0; w < Warps; w++)
        {
            for (int row = 0; row < 16; row++)
            {
                for (int col = 0; col < 8; col++)
                {
                    double sum = c[w * 128 + row * 8 + col], magnitude = Math.Abs(sum);
                    for (int k = 0; k < 16; k++)
                    {
                        double product = Widen(a[w * 256 + row * 16 + k], type) * Widen(b[w * 128 + k * 8 + col], type);
                        sum += product;
                        magnitude += Math.Abs(product);
                    }
                    double error = Math.Abs(result[w * 128 + row * 8 + col] - sum);
                    Assert.True(error <= RelativeTolerance * magnitude,
                        $"warp {w} ({row},{col}): expected {sum}, got {result[w * 128 + row * 8 + col]}");
                }
            }
        }
    }

    private static ushort[] RandomBits(Random random, int count, ElementType type)
    {
        var bits = new ushort[count];
        for (int i = 0; i < count; i++)
        {
            float value = (float)(random.NextDouble() * 4 - 2);
            bits[i] = type == ElementType.Float16
                ? BitConverter.HalfToUInt16Bits((Half)value)
                : BFloat16.FromFloat(value).Bits;
        }
        return bits;
    }

    private static double Widen(ushort bits, ElementType type) => type == ElementType.Float16
        ? (double)BitConverter.UInt16BitsToHalf(bits)
        : new BFloat16(bits).ToFloat();
}
