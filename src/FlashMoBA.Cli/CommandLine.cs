using CommandLine;
using CommandLine.Text;
using FlashMoBA.Cli.Commands;

namespace FlashMoBA.Cli;

/// <summary>Parses the arguments once and dispatches to the verb's command; maps failures to exit codes.</summary>
internal static class CommandLine
{
    /// <summary>Runs the command line and returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        using var parser = new Parser(settings =>
        {
            settings.HelpWriter = null;
            settings.CaseInsensitiveEnumValues = true;
            settings.AutoHelp = true;
            settings.AutoVersion = true;
        });
        var result = parser.ParseArguments<InfoOptions, VerifyOptions, BenchOptions, RunOptions>(args);
        try
        {
            return result.MapResult(
                (InfoOptions options) => new InfoCommand(options, stdout, stderr).Execute(),
                (VerifyOptions options) => new VerifyCommand(options, stdout, stderr).Execute(),
                (BenchOptions options) => new BenchCommand(options, stdout, stderr).Execute(),
                (RunOptions options) => new RunCommand(options, stdout, stderr).Execute(),
                errors => ReportParseErrors(result, errors.ToList(), stdout, stderr));
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"flashmoba: {OneLine(ex.Message)}");
            return ExitCodes.BadArguments;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A kernel or driver failure is a failed run, not a crash: report it and exit 1.
            stderr.WriteLine($"flashmoba: failed: {ex.GetType().Name}: {OneLine(ex.Message)}");
            stderr.WriteLine(ex.StackTrace);
            return ExitCodes.CheckFailed;
        }
    }

    private static int ReportParseErrors(ParserResult<object> result, List<Error> errors, TextWriter stdout, TextWriter stderr)
    {
        if (errors.OfType<HelpVerbRequestedError>().FirstOrDefault() is { Matched: true, Verb: { } helpVerb })
            return Run([helpVerb, "--help"], stdout, stderr); // "flashmoba help bench" == "flashmoba bench --help"
        if (errors.IsHelp() || errors.IsVersion())
        {
            bool verbIndex = errors.Any(e => e is NoVerbSelectedError or HelpVerbRequestedError { Matched: false })
                || (VerbOf(result).Length == 0 && !errors.OfType<HelpVerbRequestedError>().Any());
            stdout.WriteLine(errors.IsVersion()
                ? HelpText.AutoBuild(result).Heading.ToString()
                : HelpText.AutoBuild(result, help => help, example => example, verbIndex).ToString());
            return ExitCodes.Ok;
        }

        var sentences = SentenceBuilder.Create();
        var first = errors[0];
        string reason = first switch
        {
            NoVerbSelectedError => "no verb given; use one of: info, verify, bench, run (flashmoba --help lists them)",
            BadVerbSelectedError bad => $"unknown verb '{bad.Token}'; use one of: info, verify, bench, run",
            _ => sentences.FormatError(first),
        };
        string verb = VerbOf(result);
        string hint = verb.Length > 0 ? $" (see flashmoba {verb} --help)" : "";
        stderr.WriteLine($"flashmoba: {OneLine(reason)}{hint}");
        return ExitCodes.BadArguments;
    }

    private static string VerbOf(ParserResult<object> result) =>
        result.TypeInfo.Current.GetCustomAttributes(typeof(VerbAttribute), false).FirstOrDefault() is VerbAttribute attribute
            ? attribute.Name
            : "";

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
