using FlashMoBA.Cli.Tests.Infrastructure;

namespace FlashMoBA.Cli.Tests;

public sealed class CommandLineTests
{
    public static TheoryData<string[], string> BadArguments => new()
    {
        { [], "no verb given" },
        { ["frobnicate"], "unknown verb 'frobnicate'" },
        { ["bench", "--bogus"], "'bogus' is unknown" },
        { ["bench", "--mode", "sideways"], "mode" },
        { ["bench", "--repeats", "many"], "repeats" },
        { ["verify", "--device", "tpu"], "device" },
        { ["run", "-k", "k.npy", "-v", "v.npy", "--out", "o"], "'q, query' is missing" },
        { ["verify", "--device", "cpu", "--top-k", "65"], "--top-k" },
        { ["verify", "--device", "cpu", "--block-size", "24"], "--block-size" },
        { ["verify", "--device", "cpu", "--heads", "3", "--heads-kv", "2"], "multiple of --heads-kv" },
        { ["verify", "--device", "cpu", "--head-dim", "96"], "supported: 64, 128" },
        { ["verify", "--device", "cpu", "--family", "nope"], "unknown family 'nope'" },
        { ["verify", "--device", "cpu", "--seqlen", "0"], "--seqlen must be >= 1" },
    };

    [Theory]
    [MemberData(nameof(BadArguments))]
    public void BadArguments_ExitTwoWithOneLineReason(string[] args, string reason)
    {
        var (exit, _, err) = CliHost.Run(args);

        Assert.Equal(ExitCodes.BadArguments, exit);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("flashmoba: ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("info")]
    [InlineData("verify")]
    [InlineData("bench")]
    [InlineData("run")]
    public void VerbHelp_ExitsZeroAndDescribesOptions(string verb)
    {
        var (exit, output, _) = CliHost.Run(verb, "--help");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("--", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_ListsEveryVerb()
    {
        var (exit, output, _) = CliHost.Run("--help");
        Assert.Equal(ExitCodes.Ok, exit);
        foreach (string verb in new[] { "info", "verify", "bench", "run" }) Assert.Contains(verb, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_ListsTheCpuAccelerator()
    {
        var (exit, output, _) = CliHost.Run("info");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("ILGPU CPU accelerator", output, StringComparison.Ordinal);
        Assert.Contains("default", output, StringComparison.Ordinal);
    }
}
