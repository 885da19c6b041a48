using FlashMoBA.Cli.Text;

namespace FlashMoBA.Cli.Bench;

/// <summary>
/// The bench result as a text table: N, subject ms ± spread, baseline ms, speedup, TFLOP/s, peak memory of
/// the subject and of the baseline, and their ratio.
/// </summary>
internal static class BenchTable
{
    /// <summary>Writes the table and the notes.</summary>
    public static void Write(TextWriter writer, BenchReport report)
    {
        string subject = report.SubjectName;
        var table = report.BaselineName is { } baseline
            ? new TextTable("N", $"{subject} ms", "±%", $"{baseline} ms", "speedup", "TFLOP/s", "peak mem",
                $"{Target(baseline)} mem", $"mem ×{Target(baseline)}")
            : new TextTable("N", $"{subject} ms", "±%", "TFLOP/s", "peak mem");
        foreach (var row in report.Rows)
        {
            string ms = row.Subject is { } s ? Units.Num(s.MedianMs, "0.000") : "-";
            string spread = row.Subject is { } t ? Units.Num(t.SpreadPercent, "0.0") : "-";
            string tflops = row.Tflops is { } f ? Units.Num(f, f >= 10 ? "0.0" : "0.000") : "-";
            string memory = row.PeakDeviceBytes is { } p ? Units.Bytes(p) : "-";
            if (report.BaselineName is not null)
            {
                string baseMs = row.Baseline is { } b ? Units.Num(b.MedianMs, "0.000") : "-";
                string speedup = row.Speedup is { } x ? Units.Num(x, "0.00") + "x" : "-";
                string baseMemory = row.BaselinePeakDeviceBytes is { } bp ? Units.Bytes(bp) : "-";
                string ratio = row.MemoryRatio is { } r ? Units.Num(r, "0.00") + "x" : "-";
                table.Add(Units.Tokens(row.Seqlen), ms, spread, baseMs, speedup, tflops, memory, baseMemory, ratio);
            }
            else
            {
                table.Add(Units.Tokens(row.Seqlen), ms, spread, tflops, memory);
            }
        }
        table.Write(writer);
        foreach (var row in report.Rows.Where(r => r.Note.Length > 0))
            writer.WriteLine($"N={Units.Tokens(row.Seqlen)}: {row.Note}");
    }

    /// <summary>The target of a "target pass" label ("dense" of "dense fwd").</summary>
    private static string Target(string label) => label.Split(' ')[0];
}
