namespace FlashMoBA.Cli;

/// <summary>Entry point of the <c>flashmoba</c> command.</summary>
public static class Program
{
    /// <summary>Parses the verb and dispatches.</summary>
    public static int Main(string[] args) => CommandLine.Run(args, Console.Out, Console.Error);
}
