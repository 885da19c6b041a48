using FlashMoBA.Cli.Devices;
using FlashMoBA.Cli.Verify;

namespace FlashMoBA.Cli.Commands;

/// <summary><c>flashmoba verify</c>: runs the registered families and prints the error table.</summary>
internal sealed class VerifyCommand(VerifyOptions options, TextWriter stdout, TextWriter stderr)
{
    /// <summary>Families to run; the registry's by default (tests substitute their own).</summary>
    public IReadOnlyList<IVerifyFamily> Families { get; init; } = VerifyRegistry.Discover();

    /// <summary>Runs the verb.</summary>
    public int Execute()
    {
        if (options.List)
        {
            foreach (var family in Families) stdout.WriteLine(family.Name);
            return ExitCodes.Ok;
        }
        var selected = SelectFamilies();
        using var session = DeviceSession.Open(options.Device, profiling: false);
        var sizes = ResolveSizes(session.IsCuda);
        stdout.WriteLine($"verify on {session.Label}; {selected.Count} famil{(selected.Count == 1 ? "y" : "ies")}: {string.Join(", ", selected.Select(f => f.Name))}");
        var runner = new VerifyRunner(selected, stdout, stderr);
        var results = runner.Run(new VerifyContext(session), sizes);
        if (results.Count == 0)
        {
            stdout.WriteLine("No cases ran: nothing verified.");
            return ExitCodes.CheckFailed;
        }
        return runner.Report(results) == 0 ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }

    private List<IVerifyFamily> SelectFamilies()
    {
        var names = options.Families.ToList();
        if (names.Count == 0) return Families.ToList();
        foreach (string name in names)
        {
            if (!Families.Any(f => f.Name == name))
                throw new UsageException($"--family: unknown family '{name}'; known: {string.Join(", ", Families.Select(f => f.Name))}");
        }
        return Families.Where(f => names.Contains(f.Name)).ToList();
    }

    private VerifySizes ResolveSizes(bool cuda)
    {
        var defaults = cuda ? VerifySizes.CudaDefaults : VerifySizes.CpuDefaults;
        var headDims = options.HeadDims.ToList();
        var dtypes = options.DTypes.Distinct().Select(d => d.ToElementType()).ToList();
        var sizes = new VerifySizes(
            Batch: Positive(options.Batch ?? defaults.Batch, "--batch"),
            Seqlen: Positive(options.Seqlen ?? defaults.Seqlen, "--seqlen"),
            Heads: Positive(options.Heads ?? defaults.Heads, "--heads"),
            HeadsKv: Positive(options.HeadsKv ?? defaults.HeadsKv, "--heads-kv"),
            HeadDims: headDims.Count > 0 ? headDims : defaults.HeadDims,
            BlockSize: options.BlockSize ?? defaults.BlockSize,
            TopK: options.TopK ?? defaults.TopK,
            ElementTypes: dtypes.Count > 0 ? dtypes : defaults.ElementTypes,
            Seed: options.Seed,
            EveryDtypePerCase: defaults.EveryDtypePerCase || dtypes.Count > 0);
        if (sizes.Heads % sizes.HeadsKv != 0)
            throw new UsageException($"--heads {sizes.Heads} must be a multiple of --heads-kv {sizes.HeadsKv}");
        foreach (int d in sizes.HeadDims)
        {
            if (!AttentionShapes.SupportedHeadDims.Contains(d))
                throw new UsageException($"--head-dim {d} is not supported; supported: {string.Join(", ", AttentionShapes.SupportedHeadDims.ToArray())}");
        }
        try
        {
            _ = new MobaConfig(sizes.BlockSize, sizes.TopK);
        }
        catch (ArgumentException ex)
        {
            throw UsageException.From(ex, ex.ParamName == "topK" ? "--top-k" : "--block-size");
        }
        return sizes;
    }

    private static int Positive(int value, string flag) =>
        value >= 1 ? value : throw new UsageException($"{flag} must be >= 1 (got {value})");
}
