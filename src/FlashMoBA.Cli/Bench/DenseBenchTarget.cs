using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using Half = System.Half;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Bench;

/// <summary>
/// Dense FlashAttention-2 (<see cref="DenseAttention"/>): forward = output + LSE; forward+backward adds
/// D, the per-key-tile backward and dQ's conversion. Inputs are seeded Normal values rounded to the
/// storage type; every buffer (including the D and fp32 dQ scratch) is allocated and the kernels compiled
/// before timing. On CUDA a forward+backward instance logs every dense kernel's registers and local memory.
/// </summary>
internal sealed class DenseBenchTarget : IBenchTarget
{
    /// <inheritdoc/>
    public string Name => BenchTargetNames.Dense;

    /// <inheritdoc/>
    public bool Supports(BenchPass pass) => true;

    /// <inheritdoc/>
    public double Flops(BenchShape shape, BenchPass pass) => AttentionFlops.Dense(shape, pass);

    /// <inheritdoc/>
    public IBenchInstance Prepare(BenchContext context, BenchShape shape, BenchPass pass) =>
        shape.ElementType == ElementType.Float16
            ? new Instance<Half>(context, shape, pass)
            : new Instance<BFloat16>(context, shape, pass);

    private sealed class Instance<T> : IBenchInstance
        where T : unmanaged
    {
        private readonly List<IDisposable> owned = [];
        private readonly KernelCache cache;
        private readonly AcceleratorStream stream;
        private readonly DenseShape shape;
        private readonly bool causal;
        private readonly float scale;
        private readonly MemoryBuffer1D<T, Stride1D.Dense> q, k, v, output;
        private readonly MemoryBuffer1D<int, Stride1D.Dense> cuSeqlens;
        private readonly MemoryBuffer1D<float, Stride1D.Dense> lse;
        private readonly MemoryBuffer1D<T, Stride1D.Dense>? dOut, dq, dk, dv;
        private readonly MemoryBuffer1D<float, Stride1D.Dense>? delta, dqAccumulator;

        public Instance(BenchContext context, BenchShape benchShape, BenchPass pass)
        {
            try
            {
                var accelerator = context.Accelerator;
                cache = KernelCache.For(accelerator);
                stream = accelerator.DefaultStream;
                var batch = benchShape.VarlenBatch;
                shape = DenseShape.Of(batch, benchShape.Heads, benchShape.HeadsKv, benchShape.HeadDim);
                causal = benchShape.Causal;
                scale = (float)(1.0 / Math.Sqrt(benchShape.HeadDim));
                q = Random(accelerator, shape.QLength, benchShape.Seed);
                k = Random(accelerator, shape.KvLength, benchShape.Seed + 1);
                v = Random(accelerator, shape.KvLength, benchShape.Seed + 2);
                cuSeqlens = Own(accelerator.Allocate1D(batch.CuSeqlensQ.ToArray()));
                output = Own(accelerator.Allocate1D<T>(shape.QLength));
                lse = Own(accelerator.Allocate1D<float>(shape.LseLength));
                if (pass == BenchPass.ForwardBackward)
                {
                    dOut = Random(accelerator, shape.QLength, benchShape.Seed + 3);
                    delta = Own(accelerator.Allocate1D<float>(shape.LseLength));
                    dqAccumulator = Own(accelerator.Allocate1D<float>(shape.QLength));
                    dq = Own(accelerator.Allocate1D<T>(shape.QLength));
                    dk = Own(accelerator.Allocate1D<T>(shape.KvLength));
                    dv = Own(accelerator.Allocate1D<T>(shape.KvLength));
                }
                // One untimed iteration compiles every kernel.
                Run();
                stream.Synchronize();
                if (accelerator.AcceleratorType == AcceleratorType.Cuda && pass == BenchPass.ForwardBackward)
                    Console.Error.WriteLine("dense kernels: " + KernelInventory.Format(KernelInventory.Dense<T>(cache, shape.HeadDim)));
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public void Run()
        {
            DenseAttention.Forward<T>(cache, stream, q.View, k.View, v.View, cuSeqlens.View, cuSeqlens.View, shape, causal,
                scale, output.View, lse.View);
            if (dOut is null) return;
            DenseAttention.Backward<T>(cache, stream, dOut.View, q.View, k.View, v.View, output.View, lse.View,
                cuSeqlens.View, cuSeqlens.View, shape, causal, scale, delta!.View, dqAccumulator!.View, dq!.View, dk!.View,
                dv!.View);
        }

        public void Dispose()
        {
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
            owned.Clear();
        }

        private TItem Own<TItem>(TItem item)
            where TItem : IDisposable
        {
            owned.Add(item);
            return item;
        }

        /// <summary>Seeded Normal(0, 1) values in the storage type, generated in parallel chunks.</summary>
        private MemoryBuffer1D<T, Stride1D.Dense> Random(Accelerator accelerator, long length, int seed)
        {
            var host = new T[length];
            const int Chunk = 1 << 20;
            long chunks = (length + Chunk - 1) / Chunk;
            Parallel.For(0L, chunks, chunk =>
            {
                var random = new Random(HashCode.Combine(seed, chunk));
                long end = Math.Min(length, (chunk + 1) * Chunk);
                for (long i = chunk * Chunk; i < end; i++)
                {
                    float value = (float)Tensors.SampledTensor.StandardNormal(random);
                    host[i] = typeof(T) == typeof(BFloat16) ? (T)(object)BFloat16.FromFloat(value) : (T)(object)(Half)value;
                }
            });
            return Own(accelerator.Allocate1D(host));
        }
    }
}
