namespace FlashMoBA;

/// <summary>Which accelerator <see cref="MobaAttention.Create(MobaAttentionDevice)"/> runs on.</summary>
public enum MobaAttentionDevice
{
    /// <summary>The first CUDA GPU when one is present, otherwise the CPU accelerator.</summary>
    Auto,

    /// <summary>The first CUDA GPU; creation fails when there is none.</summary>
    Cuda,

    /// <summary>ILGPU's CPU accelerator (32-lane warps): the same kernels, emulated; for tests and small problems.</summary>
    Cpu,
}
