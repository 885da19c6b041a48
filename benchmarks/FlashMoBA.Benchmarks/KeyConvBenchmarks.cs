using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using FlashMoBA.Benchmarks.Infrastructure;
using FlashMoBA.Kernels.KeyConv;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Benchmarks;

/// <summary>Key convolution forward and backward (bandwidth-bound); Hk=16, d=128 on a GPU, tiny on the CPU.</summary>
[Config(typeof(KernelBenchmarkConfig))]
public class KeyConvBenchmarks
{
    private KeyConvShape _shape;
    private int _partials;
    private MemoryBuffer1D<ILGPU.Half, Stride1D.Dense>? _k, _kOut, _dKPrime, _dK;
    private MemoryBuffer1D<int, Stride1D.Dense>? _cuSeqlensK;
    private MemoryBuffer1D<float, Stride1D.Dense>? _weights, _dW, _scratch;

    [ParamsSource(nameof(SeqlenValues))]
    public int Seqlen { get; set; }

    [Params(3, 5)]
    public int Width { get; set; }

    public static IEnumerable<int> SeqlenValues() => BenchDevice.Seqlens(gpu: [65536], cpu: [256]);

    [GlobalSetup]
    public void Setup()
    {
        var accelerator = BenchDevice.Accelerator;
        int headsKv = BenchDevice.IsCuda ? 16 : 2, headDim = BenchDevice.IsCuda ? 128 : 64;
        _shape = new KeyConvShape(1, Seqlen, headsKv, headDim, Width);
        _cuSeqlensK = accelerator.Allocate1D(new[] { 0, Seqlen });
        _k = Upload(RandomBits.Normal(_shape.KeyElements, ElementType.Float16, 1));
        _dKPrime = Upload(RandomBits.Normal(_shape.KeyElements, ElementType.Float16, 2));
        _kOut = accelerator.Allocate1D<ILGPU.Half>(_shape.KeyElements);
        _dK = accelerator.Allocate1D<ILGPU.Half>(_shape.KeyElements);
        var random = new Random(3);
        _weights = accelerator.Allocate1D(Enumerable.Range(0, _shape.WeightElements).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
        _dW = accelerator.Allocate1D<float>(_shape.WeightElements);
        _partials = KeyConvolution.DefaultPartials(accelerator, ElementType.Float16, _shape);
        _scratch = accelerator.Allocate1D<float>((long)_partials * _shape.WeightElements);
        Forward();
        Backward();

        MemoryBuffer1D<ILGPU.Half, Stride1D.Dense> Upload(ushort[] bits) =>
            accelerator.Allocate1D(MemoryMarshal.Cast<ushort, ILGPU.Half>(bits).ToArray());
    }

    [Benchmark]
    public void Forward()
    {
        KeyConvolution.Forward(BenchDevice.Accelerator.DefaultStream, _k!.View, _cuSeqlensK!.View, _weights!.View, _shape, _kOut!.View);
        BenchDevice.Synchronize();
    }

    [Benchmark]
    public void Backward()
    {
        KeyConvolution.Backward(BenchDevice.Accelerator.DefaultStream, _k!.View, _cuSeqlensK!.View, _weights!.View, _dKPrime!.View,
            _shape, _dK!.View, _dW!.View, _scratch!.View, _partials);
        BenchDevice.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (IDisposable? buffer in new IDisposable?[] { _k, _kOut, _dKPrime, _dK, _cuSeqlensK, _weights, _dW, _scratch }) buffer?.Dispose();
    }
}
