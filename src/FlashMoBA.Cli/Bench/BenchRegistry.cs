using System.Reflection;

namespace FlashMoBA.Cli.Bench;

/// <summary>Finds every <see cref="IBenchTarget"/> in this assembly (classes with a parameterless constructor).</summary>
internal static class BenchRegistry
{
    /// <summary>All targets by name.</summary>
    public static IReadOnlyDictionary<string, IBenchTarget> Discover() =>
        typeof(IBenchTarget).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IBenchTarget).IsAssignableFrom(t)
                && t.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes) is not null)
            .Select(t => (IBenchTarget)Activator.CreateInstance(t, nonPublic: true)!)
            .ToDictionary(t => t.Name, StringComparer.Ordinal);
}
