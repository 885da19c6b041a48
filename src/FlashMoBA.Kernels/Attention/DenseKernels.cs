using System.Reflection;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The catalogue of dense attention kernels and their specialisations, for offline compilation
/// (PTX tests, <c>ptxas</c> reports) and for the GPU self-check's resource table.
/// </summary>
internal static class DenseKernels
{
    /// <summary>Kernel name → (declaring type, method name).</summary>
    public static readonly (string Name, Func<ElementType, int, bool, MethodInfo> Resolve)[] All =
    [
        ("forward", (type, headDim, causal) => Close(typeof(DenseForward), nameof(DenseForward.Kernel),
            DenseForward.Specialization(type, headDim, causal))),
    ];

    /// <summary>The closed kernel method <paramref name="name"/> for one specialisation.</summary>
    public static MethodInfo Method(string name, ElementType type, int headDim, bool causal)
    {
        foreach (var (kernelName, resolve) in All)
        {
            if (kernelName == name) return resolve(type, headDim, causal);
        }
        throw new ArgumentException($"Unknown dense kernel '{name}'.", nameof(name));
    }

    /// <summary>Whether the kernel's PTX must contain <c>mma.sync</c>.</summary>
    public static bool UsesTensorCores(string name) => name is "forward";

    private static MethodInfo Close(Type owner, string name, Type[] specialization) =>
        owner.GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)!
            .MakeGenericMethod(specialization);
}
