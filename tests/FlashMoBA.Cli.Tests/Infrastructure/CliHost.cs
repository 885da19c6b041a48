namespace FlashMoBA.Cli.Tests.Infrastructure;

/// <summary>Runs the command line in-process and captures its streams.</summary>
internal static class CliHost
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = CommandLine.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flashmoba-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
