using System.Reflection;

namespace FlashMoBA.Cli.Verify;

/// <summary>Finds every <see cref="IVerifyFamily"/> in this assembly (sealed classes with a parameterless constructor).</summary>
internal static class VerifyRegistry
{
    /// <summary>All families in pipeline order.</summary>
    public static IReadOnlyList<IVerifyFamily> Discover() =>
        typeof(IVerifyFamily).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IVerifyFamily).IsAssignableFrom(t)
                && t.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes) is not null)
            .Select(t => (IVerifyFamily)Activator.CreateInstance(t, nonPublic: true)!)
            .OrderBy(f => f.Order).ThenBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
}
