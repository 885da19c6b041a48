using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.Runtime;

/// <summary>
/// Compiles kernels to PTX without a GPU, with the same context settings as
/// <see cref="AcceleratorHost"/> (O2, fast math). The PTX feeds <c>ptxas -arch=sm_90 -v</c> to read
/// registers, spills and stack frame offline, and lets tests check the CUDA path still compiles.
/// ISA 8.4 is the newest the offline ptxas (CUDA 12.4) accepts.
/// </summary>
internal sealed class OfflinePtx : IDisposable
{
    private readonly Context context;
    private readonly PTXBackend backend;

    /// <summary>Creates a compiler for SM 9.0 with PTX ISA 8.4.</summary>
    public OfflinePtx()
    {
        context = Context.Create(builder => builder
            .Optimize(OptimizationLevel.O2)
            .Math(MathMode.Fast)
            .EnableAlgorithms());
        var capabilities = new CudaCapabilityContext(CudaArchitecture.SM_90);
        PtxTarget.Apply(capabilities, CudaArchitecture.SM_90);
        backend = new PTXBackend(context, capabilities, CudaArchitecture.SM_90, CudaInstructionSet.ISA_84, null);
    }

    /// <summary>PTX text of the explicitly grouped kernel <paramref name="kernel"/> (closed method).</summary>
    public string Compile(MethodInfo kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        backend.Dispose();
        context.Dispose();
    }
}
