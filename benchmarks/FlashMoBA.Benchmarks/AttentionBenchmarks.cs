using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using FlashMoBA.Benchmarks.Infrastructure;
using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;
using Half = System.Half;

namespace FlashMoBA.Benchmarks;

/// <summary>
/// MoBA attention through the public <see cref="MobaAttention"/> API (router + attention, and the
/// backward) against dense FlashAttention-2, the baseline. GPU: b=2, H=16, d=128, fp16, causal, B=128,
/// topK=8 (DESIGN.md §7); CPU: a tiny shape. Results are written into buffers allocated in the setup.
/// </summary>
[Config(typeof(KernelBenchmarkConfig))]
public class AttentionBenchmarks
{
    private MobaAttention? _moba;
    private DeviceTensor<Half>? _q, _k, _v, _dOut;
    private MobaForwardResult<Half>? _forward;
    private MobaGradients<Half>? _gradients;
    private VarlenBatch _batch = VarlenBatch.Uniform(1, 1);
    private MobaConfig _config = new(128, 8);
    private MemoryBuffer1D<int, Stride1D.Dense>? _cuSeqlens;
    private MemoryBuffer1D<Half, Stride1D.Dense>? _denseOut;
    private MemoryBuffer1D<float, Stride1D.Dense>? _denseLse;
    private DenseShape _denseShape;

    [ParamsSource(nameof(SeqlenValues))]
    public int Seqlen { get; set; }

    public static IEnumerable<int> SeqlenValues() => BenchDevice.Seqlens(gpu: [8192, 32768], cpu: [128]);

    [GlobalSetup]
    public void Setup()
    {
        bool cuda = BenchDevice.IsCuda;
        int batch = cuda ? 2 : 1, heads = cuda ? 16 : 2, headDim = cuda ? 128 : 64;
        _config = new MobaConfig(cuda ? 128 : 32, cuda ? 8 : 2);
        _batch = VarlenBatch.Uniform(batch, Seqlen);
        var accelerator = BenchDevice.Accelerator;
        int[] shape = [_batch.TotalQ, heads, headDim];
        _moba = new MobaAttention(accelerator);
        _q = Upload(shape, 1);
        _k = Upload(shape, 2);
        _v = Upload(shape, 3);
        _dOut = Upload(shape, 4);
        _forward = _moba.AllocateForward(_q, _k, _v, _batch, _config);
        _gradients = _moba.AllocateGradients(_q, _k, _v, _batch, _config);
        _cuSeqlens = accelerator.Allocate1D(_batch.CuSeqlensQ.ToArray());
        _denseShape = DenseShape.Of(_batch, heads, heads, headDim);
        _denseOut = accelerator.Allocate1D<Half>(_denseShape.QLength);
        _denseLse = accelerator.Allocate1D<float>(_denseShape.LseLength);
        MobaForwardBackward(); // compile every kernel outside the measurement
        DenseForward();

        DeviceTensor<Half> Upload(int[] dims, int seed) => DeviceTensor<Half>.Upload(accelerator,
            MemoryMarshal.Cast<ushort, Half>(RandomBits.Normal((long)dims[0] * dims[1] * dims[2], ElementType.Float16, seed)), dims);
    }

    [Benchmark]
    public void MobaForward()
    {
        _moba!.Forward(_q!, _k!, _v!, _batch, _config, _forward!);
        BenchDevice.Synchronize();
    }

    [Benchmark]
    public void MobaForwardBackward()
    {
        _moba!.Forward(_q!, _k!, _v!, _batch, _config, _forward!);
        _moba.Backward(_dOut!, _q!, _k!, _v!, _forward!, _batch, _config, _gradients!);
        BenchDevice.Synchronize();
    }

    [Benchmark(Baseline = true)]
    public void DenseForward()
    {
        DenseAttention.Forward(KernelCache.For(BenchDevice.Accelerator), BenchDevice.Accelerator.DefaultStream,
            _q!.View.AsContiguous(), _k!.View.AsContiguous(), _v!.View.AsContiguous(), _cuSeqlens!.View, _cuSeqlens.View,
            _denseShape, causal: true, (float)(1.0 / Math.Sqrt(_denseShape.HeadDim)), _denseOut!.View, _denseLse!.View);
        BenchDevice.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (IDisposable? owned in new IDisposable?[] { _forward, _gradients, _q, _k, _v, _dOut, _cuSeqlens, _denseOut, _denseLse, _moba })
            owned?.Dispose();
    }
}
