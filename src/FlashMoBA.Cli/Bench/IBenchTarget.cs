namespace FlashMoBA.Cli.Bench;

/// <summary>
/// One kernel family timed by <c>flashmoba bench</c>. A target is one file in this folder: a sealed class
/// with a parameterless constructor implementing this interface, named after one of
/// <see cref="BenchTargetNames"/>; <see cref="BenchRegistry"/> finds it by reflection.
/// </summary>
internal interface IBenchTarget
{
    /// <summary>The name modes refer to (<see cref="BenchTargetNames"/>).</summary>
    string Name { get; }

    /// <summary>Whether the target implements <paramref name="pass"/>.</summary>
    bool Supports(BenchPass pass);

    /// <summary>Floating-point operations of one iteration (the effective count: only the work the
    /// semantics require, e.g. attended (query, key) pairs for MoBA), used for the TFLOP/s column.</summary>
    double Flops(BenchShape shape, BenchPass pass);

    /// <summary>Allocates and fills seeded random inputs and every buffer an iteration needs, and loads
    /// the kernels, so that <see cref="IBenchInstance.Run"/> allocates nothing it keeps.</summary>
    IBenchInstance Prepare(BenchContext context, BenchShape shape, BenchPass pass);
}

/// <summary>A prepared problem; disposing frees its device memory.</summary>
internal interface IBenchInstance : IDisposable
{
    /// <summary>Enqueues one iteration on the accelerator's default stream; does not wait for it.</summary>
    void Run();
}
