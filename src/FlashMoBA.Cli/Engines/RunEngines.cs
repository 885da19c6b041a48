using System.Reflection;

namespace FlashMoBA.Cli.Engines;

/// <summary>Finds every <see cref="IRunEngine"/> in this assembly.</summary>
internal static class RunEngines
{
    /// <summary>All engines, preferred first.</summary>
    public static IReadOnlyList<IRunEngine> Discover() =>
        typeof(IRunEngine).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IRunEngine).IsAssignableFrom(t)
                && t.GetConstructor(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance, Type.EmptyTypes) is not null)
            .Select(t => (IRunEngine)Activator.CreateInstance(t, nonPublic: true)!)
            .OrderByDescending(e => e.Priority)
            .ToList();
}
