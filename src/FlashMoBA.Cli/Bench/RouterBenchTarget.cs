using FlashMoBA.Cli.Tensors;
using FlashMoBA.Kernels.Routing;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Bench;

/// <summary>The whole router (centroids, fused gating + top-k, key-block reindex) into a reused plan.</summary>
internal sealed class RouterBenchTarget : IBenchTarget
{
    /// <inheritdoc/>
    public string Name => BenchTargetNames.Router;

    /// <inheritdoc/>
    public bool Supports(BenchPass pass) => pass == BenchPass.Forward;

    /// <inheritdoc/>
    public double Flops(BenchShape shape, BenchPass pass) => AttentionFlops.Router(shape);

    /// <inheritdoc/>
    public IBenchInstance Prepare(BenchContext context, BenchShape shape, BenchPass pass) =>
        shape.ElementType == ElementType.Float16
            ? new Instance<ILGPU.Half>(context.Accelerator, shape)
            : new Instance<BFloat16>(context.Accelerator, shape);

    private sealed class Instance<T> : IBenchInstance where T : unmanaged
    {
        private readonly Accelerator _accelerator;
        private readonly Router _router;
        private readonly RoutingPlan _plan;
        private readonly MemoryBuffer1D<T, Stride1D.Dense> _q;
        private readonly MemoryBuffer1D<T, Stride1D.Dense> _k;

        public Instance(Accelerator accelerator, BenchShape shape)
        {
            _accelerator = accelerator;
            var batch = shape.VarlenBatch;
            var geometry = RoutingGeometry.Create(batch.CuSeqlensQ.ToArray(), batch.CuSeqlensK.ToArray(), shape.Heads,
                shape.HeadsKv, shape.HeadDim, shape.BlockSize, shape.TopK, shape.Causal, shape.ElementType);
            _router = new Router(accelerator);
            _plan = RoutingPlan.Allocate(accelerator, geometry);
            try
            {
                _q = RandomStorage.UploadNormal<T>(accelerator, shape.QElements, shape.ElementType, shape.Seed);
                _k = RandomStorage.UploadNormal<T>(accelerator, shape.KvElements, shape.ElementType, shape.Seed + 1);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public void Run() => _router.Build(_accelerator.DefaultStream, _plan, _q.View.AsContiguous(), _k.View.AsContiguous());

        public void Dispose()
        {
            _plan.Dispose();
            _q?.Dispose();
            _k?.Dispose();
        }
    }
}
