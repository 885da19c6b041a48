using System.Reflection;
using FlashMoBA.Kernels.KeyConv;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.KeyConvBench;

/// <summary>
/// Writes the PTX of every key-convolution kernel for sm_90 (ISA 8.4, the newest the offline
/// ptxas 12.4 reads) with the benchmark's context settings, so registers, spills and stack frames
/// can be read with <c>ptxas -v</c> without a GPU.
/// </summary>
internal static class PtxDump
{
    public static int Run(string directory)
    {
        Directory.CreateDirectory(directory);
        using var context = Context.Create(builder => builder
            .Optimize(OptimizationLevel.O2)
            .Math(MathMode.Fast)
            .EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_84, null);

        foreach (var elementType in new[] { ElementType.Float16, ElementType.BFloat16 })
        {
            foreach (int width in new[] { 3, 5 })
            {
                string tag = $"{(elementType == ElementType.Float16 ? "f16" : "bf16")}-w{width}";
                Write(backend, KeyConvKernels.ForwardMethod(elementType, width).Method, true,
                    Path.Combine(directory, $"forward-{tag}.ptx"));
                Write(backend, KeyConvKernels.BackwardMethod(elementType, width).Method, true,
                    Path.Combine(directory, $"backward-{tag}.ptx"));
            }
        }
        Action<Index1D, ArrayView<float>, ArrayView<float>, int> reduce = KeyConvBackward.ReducePartialsKernel;
        Write(backend, reduce.Method, false, Path.Combine(directory, "reduce-partials.ptx"));
        return 0;
    }

    private static void Write(PTXBackend backend, MethodInfo method, bool explicitlyGrouped, string path)
    {
        var entry = explicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, default);
        File.WriteAllText(path, compiled.PTXAssembly);
        Console.WriteLine(path);
    }
}
