using FlashMoBA.Cli.Tensors;
using FlashMoBA.Kernels.KeyConv;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Bench;

/// <summary>
/// The key convolution (DESIGN.md §3) on the keys of the bench shape, <c>[b·N, Hk, d]</c>, width
/// <see cref="Width"/>: the forward alone, or forward then backward (dK, dW). Bandwidth-bound: the
/// table's TFLOP/s counts its few flops per element; GB/s is bytes (2 per element read or written)
/// over time — see benchmarks/results/keyconv-h200.md.
/// </summary>
internal sealed class KeyConvTarget : IBenchTarget
{
    /// <summary>Convolution width timed: kconv5, the wider of the two.</summary>
    public const int Width = 5;

    /// <inheritdoc/>
    public string Name => BenchTargetNames.KeyConv;

    /// <inheritdoc/>
    public bool Supports(BenchPass pass) => true;

    /// <inheritdoc/>
    /// <remarks>Per element: forward 2W (convolution) + 6 (SiLU through exp2 and a reciprocal, residual);
    /// backward 2W (recomputed pre-activation) + 8 (SiLU′, g) + 2W (dW) + 2W (dK).</remarks>
    public double Flops(BenchShape shape, BenchPass pass)
    {
        double forward = 2.0 * Width + 6;
        double backward = 6.0 * Width + 8;
        return shape.KvElements * (pass == BenchPass.Forward ? forward : forward + backward);
    }

    /// <inheritdoc/>
    public IBenchInstance Prepare(BenchContext context, BenchShape shape, BenchPass pass) =>
        shape.ElementType == ElementType.Float16
            ? new Instance<ILGPU.Half>(context.Accelerator, shape, pass)
            : new Instance<BFloat16>(context.Accelerator, shape, pass);

    private sealed class Instance<T> : IBenchInstance
        where T : unmanaged
    {
        private readonly Accelerator accelerator;
        private readonly BenchPass pass;
        private readonly KeyConvShape shape;
        private readonly int partials;
        private readonly MemoryBuffer1D<T, Stride1D.Dense> k, dKPrime, kOut, dK;
        private readonly MemoryBuffer1D<int, Stride1D.Dense> cuSeqlensK;
        private readonly MemoryBuffer1D<float, Stride1D.Dense> weights, dW, scratch;

        public Instance(Accelerator accelerator, BenchShape bench, BenchPass pass)
        {
            this.accelerator = accelerator;
            this.pass = pass;
            shape = new KeyConvShape(bench.Batch, bench.TotalTokens, bench.HeadsKv, bench.HeadDim, Width);
            partials = KeyConvolution.DefaultPartials(accelerator, bench.ElementType, shape);
            k = RandomStorage.UploadNormal<T>(accelerator, shape.KeyElements, bench.ElementType, bench.Seed);
            dKPrime = RandomStorage.UploadNormal<T>(accelerator, shape.KeyElements, bench.ElementType, bench.Seed + 1);
            var random = new Random(bench.Seed + 2);
            cuSeqlensK = accelerator.Allocate1D(bench.VarlenBatch.CuSeqlensK.ToArray());
            var taps = new float[shape.WeightElements];
            for (int i = 0; i < taps.Length; i++) taps[i] = (float)(random.NextDouble() * 1.8 - 0.9);
            weights = accelerator.Allocate1D(taps);
            kOut = accelerator.Allocate1D<T>(shape.KeyElements);
            dK = accelerator.Allocate1D<T>(shape.KeyElements);
            dW = accelerator.Allocate1D<float>(shape.WeightElements);
            scratch = accelerator.Allocate1D<float>((long)partials * shape.WeightElements);
        }

        public void Run()
        {
            var stream = accelerator.DefaultStream;
            KeyConvolution.Forward(stream, k.View, cuSeqlensK.View, weights.View, shape, kOut.View);
            if (pass == BenchPass.ForwardBackward)
            {
                KeyConvolution.Backward(stream, k.View, cuSeqlensK.View, weights.View, dKPrime.View, shape, dK.View,
                    dW.View, scratch.View, partials);
            }
        }

        public void Dispose()
        {
            k.Dispose();
            dKPrime.Dispose();
            cuSeqlensK.Dispose();
            weights.Dispose();
            kOut.Dispose();
            dK.Dispose();
            dW.Dispose();
            scratch.Dispose();
        }
    }
}
