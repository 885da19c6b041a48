using FlashMoBA.Cli.Text;

namespace FlashMoBA.Cli.Verify;

/// <summary>Runs families case by case, prints the table (family, case, quantity, errors, tolerance, verdict).</summary>
internal sealed class VerifyRunner(IReadOnlyList<IVerifyFamily> families, TextWriter stdout, TextWriter progress)
{
    /// <summary>Runs every case of every family; returns the checks in table order.</summary>
    public IReadOnlyList<(IVerifyFamily Family, VerifyCase Case, VerifyCheck Check)> Run(VerifyContext context, VerifySizes sizes)
    {
        var results = new List<(IVerifyFamily, VerifyCase, VerifyCheck)>();
        foreach (var family in families)
        {
            foreach (var testCase in family.Cases(sizes))
            {
                progress.WriteLine($"verify: {family.Name} {testCase.Label}");
                IReadOnlyList<VerifyCheck> checks;
                try
                {
                    checks = family.Run(context, testCase).ToList();
                    if (checks.Count == 0) checks = [VerifyCheck.Failed("-", Tolerance.Exact, "the family compared nothing")];
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    checks = [VerifyCheck.Failed("error", Tolerance.Exact, $"{ex.GetType().Name}: {ex.Message}")];
                }
                foreach (var check in checks) results.Add((family, testCase, check));
            }
        }
        return results;
    }

    /// <summary>Prints the results as a table and a summary line; returns the number of failed rows.</summary>
    public int Report(IReadOnlyList<(IVerifyFamily Family, VerifyCase Case, VerifyCheck Check)> results)
    {
        var table = new TextTable("family", "case", "tensor", "max abs err", "max rel err", "tolerance", "result");
        int failed = 0;
        foreach (var (family, testCase, check) in results)
        {
            if (!check.Passed) failed++;
            table.Add(family.Name, testCase.Label, check.Quantity, Error(check.MaxAbsError), Error(check.MaxRelError),
                check.ToleranceText, check.Passed ? "PASS" : "FAIL");
        }
        table.Write(stdout);
        foreach (var (family, testCase, check) in results.Where(r => !r.Check.Passed))
            stdout.WriteLine(check.Count == 0
                ? $"FAIL {family.Name} [{testCase.Label}] {check.Quantity}: {check.Detail}"
                : $"FAIL {family.Name} [{testCase.Label}] {check.Quantity}: {check.Violations} of {check.Count} out of tolerance; {check.Detail}");
        stdout.WriteLine($"{results.Count - failed} of {results.Count} checks passed.");
        return failed;
    }

    private static string Error(double value) =>
        double.IsPositiveInfinity(value) ? "inf" : Units.Num(value, "0.00e+00");
}
