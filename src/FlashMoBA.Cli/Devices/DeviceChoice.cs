namespace FlashMoBA.Cli.Devices;

/// <summary>The accelerator a verb runs on (<c>--device</c>).</summary>
internal enum DeviceChoice
{
    /// <summary>The first CUDA GPU when there is one, the CPU accelerator otherwise.</summary>
    Auto,

    /// <summary>The first CUDA GPU; an error when there is none.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator (32-lane emulated warps).</summary>
    Cpu,
}
