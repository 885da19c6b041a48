using BenchmarkDotNet.Attributes;
using FlashMoBA.Kernels.Routing;

namespace FlashMoBA.Benchmarks;

/// <summary>
/// Host-side work done before every launch: building a varlen batch, validating shapes and the
/// configuration, and planning the router's geometry. These must stay negligible next to the kernels.
/// </summary>
[MemoryDiagnoser]
public class ValidationBenchmarks
{
    private int[] _lengths = [];
    private VarlenBatch _batch = VarlenBatch.Uniform(1, 1);
    private MobaConfig _config = new(128, 8);

    /// <summary>Sequences in the batch.</summary>
    [Params(2, 1024)]
    public int Sequences { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _lengths = Enumerable.Range(0, Sequences).Select(_ => random.Next(1, 65536 / Sequences + 2)).ToArray();
        _batch = VarlenBatch.FromLengths(_lengths);
        _config = new MobaConfig(128, 8);
    }

    [Benchmark]
    public VarlenBatch BatchFromLengths() => VarlenBatch.FromLengths(_lengths);

    [Benchmark]
    public AttentionDims ValidateShapes() =>
        AttentionShapes.Validate([_batch.TotalQ, 16, 128], [_batch.TotalK, 4, 128], [_batch.TotalK, 4, 128], _batch, _config);

    [Benchmark]
    public int PlanRouting() =>
        RoutingGeometry.Create(_batch.CuSeqlensQ.ToArray(), _batch.CuSeqlensK.ToArray(), 16, 4, 128, _config.BlockSize,
            _config.TopK, causal: true, ElementType.Float16).Segments;
}
