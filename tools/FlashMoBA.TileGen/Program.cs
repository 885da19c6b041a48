namespace FlashMoBA.TileGen;

/// <summary>
/// Writes src/FlashMoBA.Kernels/Primitives/RegisterTiles.g.cs. Usage: <c>dotnet run --project
/// tools/FlashMoBA.TileGen [-- --check]</c>; <c>--check</c> exits 1 when the checked-in file is stale.
/// </summary>
public static class Program
{
    /// <summary>Repository-relative path of the generated file.</summary>
    public const string OutputPath = "src/FlashMoBA.Kernels/Primitives/RegisterTiles.g.cs";

    /// <summary>Generates (or checks) the register-tile file.</summary>
    public static int Main(string[] args)
    {
        string root = FindRepositoryRoot(Directory.GetCurrentDirectory());
        string path = Path.Combine(root, OutputPath);
        string text = RegisterTileGenerator.Generate();
        if (args.Contains("--check"))
        {
            bool current = File.Exists(path) && File.ReadAllText(path) == text;
            Console.WriteLine(current ? $"{OutputPath} is up to date." : $"{OutputPath} is stale: regenerate it.");
            return current ? 0 : 1;
        }
        File.WriteAllText(path, text);
        Console.WriteLine($"Wrote {OutputPath}.");
        return 0;
    }

    /// <summary>The nearest directory at or above <paramref name="start"/> holding FlashMoBA.sln.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlashMoBA.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No FlashMoBA.sln above {start}.");
    }
}
