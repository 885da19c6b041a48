using FlashMoBA.Cli.Commands;
using FlashMoBA.Cli.Devices;
using FlashMoBA.Cli.Tests.Infrastructure;
using FlashMoBA.Cli.Verify;

namespace FlashMoBA.Cli.Tests.Verify;

public sealed class VerifyFrameworkTests
{
    /// <summary>A family whose checks are scripted, to test the framework without kernels.</summary>
    private sealed class ScriptedFamily(string name, Func<VerifyCase, IEnumerable<VerifyCheck>> run) : IVerifyFamily
    {
        public string Name => name;

        public int Order => 0;

        public List<VerifyCase> Seen { get; } = [];

        public IEnumerable<VerifyCase> Cases(VerifySizes sizes) => VerifyCases.Standard(sizes).Take(2);

        public IEnumerable<VerifyCheck> Run(VerifyContext context, VerifyCase testCase)
        {
            Seen.Add(testCase);
            return run(testCase);
        }
    }

    private static (int Exit, string Out) Execute(VerifyOptions options, params IVerifyFamily[] families)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = new VerifyCommand(options, stdout, stderr) { Families = families }.Execute();
        return (exit, stdout.ToString());
    }

    private static VerifyCheck Close(string quantity) =>
        VerifyCheck.Compare(quantity, [1.0f, 2.0f], [1.0, 2.0000001], new Tolerance(1e-3, 1e-3));

    [Fact]
    public void AllChecksPass_ExitZeroAndTablePrinted()
    {
        var family = new ScriptedFamily("fake", _ => [Close("out"), Close("lse")]);

        var (exit, output) = Execute(new VerifyOptions { Device = DeviceChoice.Cpu }, family);

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(2, family.Seen.Count);
        Assert.Contains("max abs err", output, StringComparison.Ordinal);
        Assert.Equal(4, output.Split('\n').Count(line => line.StartsWith("fake ", StringComparison.Ordinal) && line.TrimEnd().EndsWith("PASS", StringComparison.Ordinal)));
        Assert.Contains("4 of 4 checks passed.", output, StringComparison.Ordinal);
    }

    [Fact]
    public void OneCheckOutOfTolerance_ExitOneAndFailLine()
    {
        var family = new ScriptedFamily("fake", c => c.Name == "varlen"
            ? [VerifyCheck.Compare("out", [1.0f, 2.5f], [1.0, 2.0], new Tolerance(1e-3, 1e-3))]
            : [Close("out")]);

        var (exit, output) = Execute(new VerifyOptions { Device = DeviceChoice.Cpu }, family);

        Assert.Equal(ExitCodes.CheckFailed, exit);
        Assert.Contains("FAIL fake [varlen", output, StringComparison.Ordinal);
        Assert.Contains("worst at [1]: 2.5 vs 2", output, StringComparison.Ordinal);
    }

    [Fact]
    public void FamilyThrows_RowFailsWithMessage()
    {
        var family = new ScriptedFamily("boom", _ => throw new InvalidOperationException("kernel exploded"));

        var (exit, output) = Execute(new VerifyOptions { Device = DeviceChoice.Cpu }, family);

        Assert.Equal(ExitCodes.CheckFailed, exit);
        Assert.Contains("InvalidOperationException: kernel exploded", output, StringComparison.Ordinal);
    }

    [Fact]
    public void FamilyComparesNothing_Fails()
    {
        var (exit, _) = Execute(new VerifyOptions { Device = DeviceChoice.Cpu }, new ScriptedFamily("empty", _ => []));
        Assert.Equal(ExitCodes.CheckFailed, exit);
    }

    [Fact]
    public void FamilyFilter_RunsOnlyTheNamedFamily()
    {
        var a = new ScriptedFamily("a", _ => [Close("x")]);
        var b = new ScriptedFamily("b", _ => [Close("x")]);

        var (exit, _) = Execute(new VerifyOptions { Device = DeviceChoice.Cpu, Families = ["b"] }, a, b);

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Empty(a.Seen);
        Assert.NotEmpty(b.Seen);
    }

    [Fact]
    public void SizeFlags_ReachTheCases()
    {
        var family = new ScriptedFamily("fake", _ => [Close("x")]);

        Execute(new VerifyOptions { Device = DeviceChoice.Cpu, Seqlen = 50, Heads = 4, HeadsKv = 2, HeadDims = [128], BlockSize = 32, TopK = 5, DTypes = [DTypeChoice.Bf16] }, family);

        var ragged = family.Seen[0];
        Assert.Equal([50], ragged.LengthsQ);
        Assert.Equal((4, 2, 128, 32, 5, ElementType.BFloat16), (ragged.Heads, ragged.HeadsKv, ragged.HeadDim, ragged.BlockSize, ragged.TopK, ragged.ElementType));
    }

    [Fact]
    public void StandardCases_CoverRaggedVarlenGqaMqaPerDtype()
    {
        var cases = VerifyCases.Standard(VerifySizes.CudaDefaults with { HeadDims = [64], EveryDtypePerCase = true }).ToList();

        Assert.Equal(8, cases.Count);
        Assert.Contains(cases, c => c.Name == "varlen" && c.LengthsQ.Length >= 3 && !c.LengthsQ.SequenceEqual(c.LengthsK));
        Assert.Contains(cases, c => c.Name == "varlen" && c.LengthsQ.Zip(c.LengthsK).Any(p => p.First > p.Second)); // rows with p < 0
        Assert.Contains(cases, c => (c.Heads, c.HeadsKv) == (4, 2) && !c.Causal);
        Assert.Contains(cases, c => (c.Heads, c.HeadsKv) == (4, 1));
        Assert.All(cases.Where(c => c.Name == "ragged"), c => Assert.NotEqual(0, c.LengthsQ[0] % c.BlockSize));
        Assert.Equal(cases.Count, cases.Select(c => c.Seed).Distinct().Count());
    }

    [Fact]
    public void CpuDefaults_AlternateDtypesButCoverBoth()
    {
        var cases = VerifyCases.Standard(VerifySizes.CpuDefaults).ToList();

        Assert.Equal(4, cases.Count);
        Assert.Equal(2, cases.Select(c => c.ElementType).Distinct().Count());
        Assert.Equal(4, cases.Select(c => c.Name).Distinct().Count());
    }

    [Fact]
    public void Registry_FindsTheBuiltInFamilies()
    {
        var names = VerifyRegistry.Discover().Select(f => f.Name).ToList();
        Assert.Contains("keyconv", names);
        Assert.Contains("router", names);
    }

    [Fact]
    public void List_PrintsFamilyNames()
    {
        var (exit, output, _) = CliHost.Run("verify", "--list");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("keyconv", output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryFamilyOnCpu_TinyRun_PassesAndReturnsZero()
    {
        var (exit, output, _) = CliHost.Run("verify", "--device", "cpu", "--seqlen", "24", "--block-size", "16", "--top-k", "2", "--dtype", "fp16");

        Assert.True(exit == ExitCodes.Ok, output);
        foreach (var family in VerifyRegistry.Discover())
            Assert.Contains(family.Name + " ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
    }
}
