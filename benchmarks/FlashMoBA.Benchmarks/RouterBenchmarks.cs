using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using FlashMoBA.Benchmarks.Infrastructure;
using FlashMoBA.Kernels.Routing;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Benchmarks;

/// <summary>The whole MoBA router (centroids → gating + top-k → reindex) into a reused plan;
/// b=2, H=16, d=128, fp16, causal, B=128, topK=8 on a GPU, a tiny shape on the CPU.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class RouterBenchmarks
{
    private Router? _router;
    private RoutingPlan? _plan;
    private MemoryBuffer1D<ILGPU.Half, Stride1D.Dense>? _q;
    private MemoryBuffer1D<ILGPU.Half, Stride1D.Dense>? _k;

    [ParamsSource(nameof(SeqlenValues))]
    public int Seqlen { get; set; }

    public static IEnumerable<int> SeqlenValues() => BenchDevice.Seqlens(gpu: [8192, 65536], cpu: [128]);

    [GlobalSetup]
    public void Setup()
    {
        bool cuda = BenchDevice.IsCuda;
        int batch = cuda ? 2 : 1, heads = cuda ? 16 : 2, headDim = cuda ? 128 : 64, blockSize = cuda ? 128 : 32, topK = cuda ? 8 : 2;
        var varlen = VarlenBatch.Uniform(batch, Seqlen);
        var geometry = RoutingGeometry.Create(varlen.CuSeqlensQ.ToArray(), varlen.CuSeqlensK.ToArray(), heads, heads, headDim,
            blockSize, topK, causal: true, ElementType.Float16);
        var accelerator = BenchDevice.Accelerator;
        long elements = (long)varlen.TotalQ * heads * headDim;
        _router = new Router(accelerator);
        _plan = RoutingPlan.Allocate(accelerator, geometry);
        _q = accelerator.Allocate1D(MemoryMarshal.Cast<ushort, ILGPU.Half>(RandomBits.Normal(elements, ElementType.Float16, 1)).ToArray());
        _k = accelerator.Allocate1D(MemoryMarshal.Cast<ushort, ILGPU.Half>(RandomBits.Normal(elements, ElementType.Float16, 2)).ToArray());
        Build(); // compile the kernels outside the measurement
    }

    [Benchmark]
    public void Build()
    {
        _router!.Build(BenchDevice.Accelerator.DefaultStream, _plan!, _q!.View.AsContiguous(), _k!.View.AsContiguous());
        BenchDevice.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _plan?.Dispose();
        _q?.Dispose();
        _k?.Dispose();
    }
}
