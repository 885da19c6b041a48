using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlashMoBA.Cli.Bench;

/// <summary>
/// Writes a <see cref="BenchReport"/> as JSON (every setting and row, timings with all samples) or CSV
/// (one line per N). JSON fields are camelCase: date, command, device, mode, subjectName, baselineName,
/// batch, heads, headsKv, headDim, dType, causal, blockSize, topK, warmup, repeats and rows[] of
/// {seqlen, subject{medianMs,minMs,maxMs,meanMs,samplesMs}, baseline, subjectFlops, peakDeviceBytes,
/// baselinePeakDeviceBytes, note, speedup, memoryRatio, tflops}.
/// </summary>
internal static class BenchFiles
{
    /// <summary>Columns of the CSV file.</summary>
    public static readonly string[] CsvColumns =
    [
        "seqlen", "subject_median_ms", "subject_min_ms", "subject_max_ms", "baseline_median_ms",
        "baseline_min_ms", "baseline_max_ms", "speedup", "tflops", "peak_device_bytes", "baseline_peak_device_bytes",
        "memory_ratio", "note",
    ];

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Serialises the report as indented JSON.</summary>
    public static string ToJson(BenchReport report) => JsonSerializer.Serialize(report, JsonOptions);

    /// <summary>Formats the rows as CSV with a header line.</summary>
    public static string ToCsv(BenchReport report)
    {
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', CsvColumns));
        foreach (var row in report.Rows)
        {
            string[] cells =
            [
                row.Seqlen.ToString(CultureInfo.InvariantCulture),
                Num(row.Subject?.MedianMs), Num(row.Subject?.MinMs), Num(row.Subject?.MaxMs),
                Num(row.Baseline?.MedianMs), Num(row.Baseline?.MinMs), Num(row.Baseline?.MaxMs),
                Num(row.Speedup), Num(row.Tflops),
                row.PeakDeviceBytes?.ToString(CultureInfo.InvariantCulture) ?? "",
                row.BaselinePeakDeviceBytes?.ToString(CultureInfo.InvariantCulture) ?? "",
                Num(row.MemoryRatio),
                Quote(row.Note),
            ];
            csv.AppendLine(string.Join(',', cells));
        }
        return csv.ToString();
    }

    /// <summary>Writes text to a file, creating its folder.</summary>
    public static void Save(string path, string text)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(path, text);
    }

    private static string Num(double? value) => value?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    private static string Quote(string text) =>
        text.Contains(',', StringComparison.Ordinal) || text.Contains('"', StringComparison.Ordinal)
            ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : text;
}
