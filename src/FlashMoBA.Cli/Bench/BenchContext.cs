using FlashMoBA.Cli.Devices;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Bench;

/// <summary>What a target needs to prepare a problem: the opened device.</summary>
/// <param name="Session">The device session (profiling enabled).</param>
internal sealed record BenchContext(DeviceSession Session)
{
    /// <summary>The accelerator kernels launch on.</summary>
    public Accelerator Accelerator => Session.Accelerator;
}
