using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Primitives;

/// <summary>
/// One warp computes softmax(scale·QKᵀ)·V for 16 rows over two 64-key tiles with per-row key limits,
/// using the register tiles, OnlineSoftmax.Rescale/Finish and P fed from S accumulators; checked
/// against a float64 loop, including an empty row (LSE +∞, output 0).
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class OnlineSoftmaxTests(AcceleratorFixture fixture)
{
    private const int Rows = 16, Keys = 128, Tile = 64, Dim = 64, Chunks = Dim / 8;
    private const float Scale = 0.3f;

    /// <summary>
    /// Output error is dominated by rounding P to 16 bits before P·V (relative 2^-9 for bf16, 2^-12 for
    /// fp16, per element, averaging down over 128 keys); 2e-2 · max|v| for bf16 and 4e-3 for fp16.
    /// </summary>
    private static double Tolerance(ElementType type) => type == ElementType.BFloat16 ? 2e-2 : 4e-3;

    internal readonly struct SoftmaxArgs(ArrayView<Chunk16> q, ArrayView<Chunk16> k, ArrayView<Chunk16> v,
        ArrayView<int> lastKey, ArrayView<float> output, ArrayView<float> lse)
    {
        public readonly ArrayView<Chunk16> Q = q;
        public readonly ArrayView<Chunk16> K = k;
        public readonly ArrayView<Chunk16> V = v;
        public readonly ArrayView<int> LastKey = lastKey;
        public readonly GlobalAccumulator Output = new(output);
        public readonly ArrayView<float> Lse = lse;
    }

    internal static void SoftmaxKernel<TElem>(SoftmaxArgs args)
        where TElem : struct, IElementOps
    {
        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var tileQ = new SharedTile(0, Chunks);
        var tileK = new SharedTile(Rows * Chunks, Chunks);
        var tileV = new SharedTile((Rows + Tile) * Chunks, Chunks);
        int lane = Warp.LaneIdx, rowLo = lane >> 2;
        TileCopy.GlobalToShared(args.Q, 0, Chunks, Rows, shared, tileQ, Rows, lane, 32);
        Group.Barrier();
        var q = default(FragA16x64);
        q.Load(words, new TileA(tileQ), 0, 0);
        var o = default(Acc16x64F32);
        var softmax = OnlineSoftmax.Empty;
        float scaleLog2 = Scale * 1.4426950408889634f;
        for (int n0 = 0; n0 < Keys; n0 += Tile)
        {
            Group.Barrier();
            TileCopy.GlobalToShared(args.K, n0 * Chunks, Chunks, Tile, shared, tileK, Tile, lane, 32);
            TileCopy.GlobalToShared(args.V, n0 * Chunks, Chunks, Tile, shared, tileV, Tile, lane, 32);
            Group.Barrier();
            var s = default(Acc16x64F32);
            s.Mma<TElem, TransposedTileB>(q, words, new TransposedTileB(tileK), 0, 0);
            s.MaskColumns(n0, args.LastKey[rowLo], args.LastKey[rowLo + 8]);
            softmax.Rescale(ref s, ref o, scaleLog2, words);
            s.ToFragA<TElem>(out var p);
            o.Mma<TElem, TileB>(p, words, new TileB(tileV), 0, 0);
        }
        softmax.Finish(ref o, Scale, words, out float lseLo, out float lseHi);
        o.AtomicAddInterleaved(args.Output, rowLo * Dim, (rowLo + 8) * Dim);
        if ((lane & 3) == 0)
        {
            args.Lse[rowLo] = lseLo;
            args.Lse[rowLo + 8] = lseHi;
        }
    }

    [Theory]
    [InlineData(ElementType.Float16)]
    [InlineData(ElementType.BFloat16)]
    public void Rescale_Finish_OverTwoTiles_MatchSoftmaxAttention(ElementType type) =>
        Check(fixture.Accelerator, type);

    /// <summary>The check itself, shared with the GPU self-check (benchmarks/gpu/primitives-check).</summary>
    internal static void Check(Accelerator accelerator, ElementType type)
    {
        var random = new Random(type == ElementType.Float16 ? 21 : 22);
        var q = HostTensors.RandomBits(random, Rows * Dim, type);
        var k = HostTensors.RandomBits(random, Keys * Dim, type);
        var v = HostTensors.RandomBits(random, Keys * Dim, type);
        // Row limits: all keys, none (row 3), only the first tile, a few keys into the second tile, ...
        var lastKey = new[] { 127, 0, 63, -1, 64, 100, 5, 127, 90, 31, 127, 70, 12, 127, 64, 126 };

        using var qBuffer = accelerator.Allocate1D(q);
        using var kBuffer = accelerator.Allocate1D(k);
        using var vBuffer = accelerator.Allocate1D(v);
        using var lastBuffer = accelerator.Allocate1D(lastKey);
        using var output = accelerator.Allocate1D<float>(Rows * Dim);
        using var lse = accelerator.Allocate1D(Enumerable.Repeat(float.NaN, Rows).ToArray());
        output.MemSetToZero();
        KernelCache.For(accelerator).Get<SoftmaxArgs>(typeof(OnlineSoftmaxTests), nameof(SoftmaxKernel), HostTensors.ElementOps(type))
            .Launch(accelerator.DefaultStream,
                new KernelConfig(new Index3D(1, 1, 1), new Index3D(32, 1, 1),
                    SharedMemoryConfig.RequestDynamic<Chunk16>((Rows + 2 * Tile) * Chunks)),
                new SoftmaxArgs(qBuffer.View.AsContiguous().Cast<Chunk16>(), kBuffer.View.AsContiguous().Cast<Chunk16>(),
                    vBuffer.View.AsContiguous().Cast<Chunk16>(), lastBuffer.View, output.View, lse.View));
        var o = HostTensors.FromInterleaved(output.GetAsArray1D());
        var l = lse.GetAsArray1D();

        var qd = HostTensors.Widen(q, type);
        var kd = HostTensors.Widen(k, type);
        var vd = HostTensors.Widen(v, type);
        for (int row = 0; row < Rows; row++)
        {
            if (lastKey[row] < 0)
            {
                Assert.Equal(float.PositiveInfinity, l[row]);
                Assert.All(o.Skip(row * Dim).Take(Dim), x => Assert.Equal(0f, x));
                continue;
            }
            var scores = new double[lastKey[row] + 1];
            for (int key = 0; key <= lastKey[row]; key++)
            {
                double dot = 0;
                for (int c = 0; c < Dim; c++) dot += qd[row * Dim + c] * kd[key * Dim + c];
                scores[key] = Scale * dot;
            }
            double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
            Assert.True(Math.Abs(l[row] - (max + Math.Log(sum))) < 1e-3, $"row {row}: LSE {l[row]} vs {max + Math.Log(sum)}");
            for (int c = 0; c < Dim; c++)
            {
                double expected = 0;
                for (int key = 0; key <= lastKey[row]; key++) expected += Math.Exp(scores[key] - max) / sum * vd[key * Dim + c];
                Assert.True(Math.Abs(o[row * Dim + c] - expected) <= Tolerance(type) * 2,
                    $"row {row} col {c}: {o[row * Dim + c]} vs {expected}");
            }
        }
    }
}
