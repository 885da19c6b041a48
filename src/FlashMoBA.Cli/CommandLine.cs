namespace FlashMoBA.Cli;

/// <summary>Parses arguments and dispatches to the verb commands.</summary>
internal static class CommandLine
{
    /// <summary>Runs the command line; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        _ = args;
        _ = stderr;
        stdout.WriteLine("flashmoba: sparse MoBA attention on ILGPU");
        return 0;
    }
}
