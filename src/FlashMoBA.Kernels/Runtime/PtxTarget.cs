using System.Reflection;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Runtime;

/// <summary>
/// The <c>.target</c> of the PTX our kernels are compiled to. ILGPU 1.5.3 writes the lowest
/// architecture its own capabilities need (sm_80 on every GPU from 8.0 up), but the kernels use sm_90
/// instructions (<see cref="Primitives.GlobalAccumulator"/>'s vector reductions), which ptxas and the
/// driver reject under <c>.target sm_80</c>. The target is a property with an internal setter on
/// ILGPU's capability context, read once per compiled kernel, so it is raised here by reflection
/// before the first kernel is compiled. ILGPU internals: pinned to 1.5.3 (Directory.Packages.props).
/// </summary>
internal static class PtxTarget
{
    /// <summary>The architecture the kernels are written for.</summary>
    public static readonly CudaArchitecture Required = CudaArchitecture.SM_90;

    /// <summary>
    /// Makes PTX compiled with <paramref name="capabilities"/> target <see cref="Required"/>. Throws
    /// <see cref="NotSupportedException"/> when <paramref name="deviceArchitecture"/> is older, and
    /// <see cref="InvalidOperationException"/> when this ILGPU version has no settable target.
    /// </summary>
    public static void Apply(CudaCapabilityContext capabilities, CudaArchitecture deviceArchitecture)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        if (deviceArchitecture < Required)
        {
            throw new NotSupportedException(
                $"The CUDA kernels need compute capability {Required} or newer (vector reductions); this GPU is {deviceArchitecture}.");
        }
        var property = typeof(CudaCapabilityContext).GetProperty(nameof(CudaCapabilityContext.TargetArchitecture),
            BindingFlags.Instance | BindingFlags.Public);
        var setter = property?.GetSetMethod(nonPublic: true) ?? throw new InvalidOperationException(
            "ILGPU's CudaCapabilityContext.TargetArchitecture has no setter: the PTX target cannot be raised with this ILGPU version.");
        setter.Invoke(capabilities, [Required]);
    }
}
