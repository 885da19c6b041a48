using System.Runtime.InteropServices;
using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using Half = System.Half;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Bench;

/// <summary>
/// MoBA attention through the public API: forward = router + attention, forward+backward adds the
/// backward. Inputs are seeded uniform values of unit variance, generated in parallel chunks so that
/// tensors past 2^31 elements (b = 2, N = 512K, H = 16, d = 128) can be filled; every buffer, the
/// routing plan and the scratch are allocated (and the kernels compiled) before timing. With the
/// environment variable <c>FLASHMOBA_MOBA_STAGES=1</c> the last timed iteration's per-stage device times
/// (<see cref="MobaAttention.MeasureStageTimes"/>) and every MoBA kernel's registers and local memory
/// per thread are written to stderr.
/// </summary>
internal sealed class MobaBenchTarget : IBenchTarget
{
    /// <summary>Set to 1 to print the per-stage breakdown of each point.</summary>
    public const string StagesVariable = "FLASHMOBA_MOBA_STAGES";

    /// <summary>Elements generated per host chunk.</summary>
    private const int ChunkElements = 1 << 22;

    /// <inheritdoc/>
    public string Name => BenchTargetNames.Moba;

    /// <inheritdoc/>
    public bool Supports(BenchPass pass) => true;

    /// <inheritdoc/>
    public double Flops(BenchShape shape, BenchPass pass) => AttentionFlops.Moba(shape, pass);

    /// <inheritdoc/>
    public IBenchInstance Prepare(BenchContext context, BenchShape shape, BenchPass pass) =>
        shape.ElementType == ElementType.Float16
            ? Instance<Half>.Create(context, shape, pass)
            : Instance<BFloat16>.Create(context, shape, pass);

    private sealed class Instance<T> : IBenchInstance
        where T : unmanaged
    {
        private readonly List<IDisposable> owned = [];
        private MobaAttention attention = null!;
        private DeviceTensor<T> q = null!, k = null!, v = null!;
        private DeviceTensor<T>? dOut;
        private MobaForwardResult<T> forward = null!;
        private MobaGradients<T>? gradients;
        private VarlenBatch batch = null!;
        private MobaConfig config = null!;
        private string label = "";
        private int headDim;

        public static Instance<T> Create(BenchContext context, BenchShape shape, BenchPass pass)
        {
            var instance = new Instance<T>();
            try
            {
                instance.Prepare(context, shape, pass);
                return instance;
            }
            catch
            {
                instance.Dispose();
                throw;
            }
        }

        public void Run()
        {
            attention.Forward(q, k, v, batch, config, forward);
            if (gradients is not null)
                attention.Backward(dOut!, q, k, v, forward, batch, config, gradients);
        }

        public void Dispose()
        {
            if (attention is { RecordStageTimes: true })
            {
                var times = attention.MeasureStageTimes();
                Console.Error.WriteLine($"moba stages {label}: total {times.Sum(t => t.Milliseconds):F3} ms; "
                    + string.Join(", ", times.Select(t => $"{t.Stage} {t.Milliseconds:F3}")));
                Console.Error.WriteLine("moba kernels: "
                    + KernelInventory.Format(KernelInventory.Moba<T>(KernelCache.For(attention.Accelerator), headDim)));
            }
            for (int i = owned.Count - 1; i >= 0; i--) owned[i].Dispose();
            owned.Clear();
        }

        private void Prepare(BenchContext context, BenchShape shape, BenchPass pass)
        {
            var accelerator = context.Accelerator;
            batch = shape.VarlenBatch;
            config = shape.Config;
            attention = Own(new MobaAttention(accelerator));
            attention.RecordStageTimes = Environment.GetEnvironmentVariable(StagesVariable) == "1";
            headDim = shape.HeadDim;
            label = $"N={shape.Seqlen} b={shape.Batch} H={shape.Heads} d={shape.HeadDim} B={shape.BlockSize} k={shape.TopK} {pass}";
            int[] qShape = [shape.TotalTokens, shape.Heads, shape.HeadDim];
            int[] kvShape = [shape.TotalTokens, shape.HeadsKv, shape.HeadDim];
            q = Own(Random(accelerator, qShape, shape.Seed, shape.ElementType));
            k = Own(Random(accelerator, kvShape, shape.Seed + 1, shape.ElementType));
            v = Own(Random(accelerator, kvShape, shape.Seed + 2, shape.ElementType));
            forward = Own(attention.AllocateForward(q, k, v, batch, config));
            if (pass == BenchPass.ForwardBackward)
            {
                dOut = Own(Random(accelerator, qShape, shape.Seed + 3, shape.ElementType));
                gradients = Own(attention.AllocateGradients(q, k, v, batch, config));
            }
            // One untimed iteration sizes the scratch buffer and compiles every kernel.
            Run();
            attention.Synchronize();
        }

        private TItem Own<TItem>(TItem item)
            where TItem : IDisposable
        {
            owned.Add(item);
            return item;
        }

        /// <summary>Uniform values in [−√3, √3] (unit variance), chunk by chunk from per-chunk seeds.</summary>
        private static DeviceTensor<T> Random(Accelerator accelerator, int[] shape, int seed, ElementType type)
        {
            var tensor = DeviceTensor<T>.Allocate(accelerator, shape);
            try
            {
                long length = tensor.Length;
                long chunks = (length + ChunkElements - 1) / ChunkElements;
                var buffers = new ushort[Math.Min(chunks, Environment.ProcessorCount)][];
                var stream = accelerator.DefaultStream;
                for (long first = 0; first < chunks; first += buffers.Length)
                {
                    int batchChunks = (int)Math.Min(buffers.Length, chunks - first);
                    Parallel.For(0, batchChunks, i =>
                    {
                        long start = (first + i) * ChunkElements;
                        buffers[i] = Fill(buffers[i], (int)Math.Min(ChunkElements, length - start), seed, first + i, type);
                    });
                    for (int i = 0; i < batchChunks; i++)
                    {
                        long start = (first + i) * ChunkElements;
                        int count = (int)Math.Min(ChunkElements, length - start);
                        tensor.View.SubView(start, count).CopyFromCPU(stream, MemoryMarshal.Cast<ushort, T>(buffers[i].AsSpan(0, count)));
                    }
                    stream.Synchronize();
                }
                return tensor;
            }
            catch
            {
                tensor.Dispose();
                throw;
            }
        }

        /// <summary>Storage bits of uniform values from an xorshift generator seeded by (seed, chunk).</summary>
        private static ushort[] Fill(ushort[]? buffer, int count, int seed, long chunk, ElementType type)
        {
            buffer ??= new ushort[ChunkElements];
            ulong state = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)chunk + 1) * 0xBF58476D1CE4E5B9UL;
            for (int i = 0; i < count; i++)
            {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                float unit = (state >> 40) * (1f / (1 << 24));
                float value = (unit * 2f - 1f) * 1.7320508f;
                buffer[i] = type == ElementType.BFloat16 ? BFloat16.FromFloat(value).Bits : BitConverter.HalfToUInt16Bits((Half)value);
            }
            return buffer;
        }
    }
}
