using System.Reflection;
using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.KeyConvBench;

/// <summary>
/// Writes the PTX of every key-convolution kernel for sm_90 (<see cref="OfflinePtx"/>: ISA 8.4, the
/// benchmark's O2 and fast-math settings), so registers, spills and stack frames can be read with
/// <c>ptxas -v</c> (../keyconv-ptxas.sh) without a GPU.
/// </summary>
internal static class PtxDump
{
    public static int Run(string directory)
    {
        Directory.CreateDirectory(directory);
        using var compiler = new OfflinePtx();
        foreach (var elementType in new[] { ElementType.Float16, ElementType.BFloat16 })
        {
            foreach (int width in new[] { 3, 5 })
            {
                string tag = $"{(elementType == ElementType.Float16 ? "f16" : "bf16")}-w{width}";
                var types = KeyConvSpecialization.TypesFor(elementType, width);
                Write(compiler, Kernel(typeof(KeyConvForward), nameof(KeyConvForward.Kernel), types),
                    Path.Combine(directory, $"forward-{tag}.ptx"));
                Write(compiler, Kernel(typeof(KeyConvBackward), nameof(KeyConvBackward.Kernel), types),
                    Path.Combine(directory, $"backward-{tag}.ptx"));
            }
        }
        Write(compiler, Kernel(typeof(KeyConvBackward), nameof(KeyConvBackward.ReducePartialsKernel), []),
            Path.Combine(directory, "reduce-partials.ptx"));
        return 0;
    }

    private static MethodInfo Kernel(Type owner, string name, Type[] specialization)
    {
        var method = owner.GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new InvalidOperationException($"{owner.Name}.{name} not found.");
        return specialization.Length == 0 ? method : method.MakeGenericMethod(specialization);
    }

    private static void Write(OfflinePtx compiler, MethodInfo kernel, string path)
    {
        File.WriteAllText(path, compiler.Compile(kernel));
        Console.WriteLine(path);
    }
}
