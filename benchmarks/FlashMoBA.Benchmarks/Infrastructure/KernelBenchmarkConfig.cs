using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace FlashMoBA.Benchmarks.Infrastructure;

/// <summary>Few iterations: kernels are long-running (and very slow on the CPU accelerator), and each
/// iteration already synchronises the device.</summary>
internal sealed class KernelBenchmarkConfig : ManualConfig
{
    public KernelBenchmarkConfig() =>
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
}
