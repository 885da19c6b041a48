using FlashMoBA.Cli.Devices;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Verify;

/// <summary>What a family needs to run a case: the accelerator it runs on.</summary>
/// <param name="Session">The opened device.</param>
internal sealed record VerifyContext(DeviceSession Session)
{
    /// <summary>The accelerator kernels launch on.</summary>
    public Accelerator Accelerator => Session.Accelerator;

    /// <summary>True on a CUDA GPU.</summary>
    public bool IsCuda => Session.IsCuda;
}
