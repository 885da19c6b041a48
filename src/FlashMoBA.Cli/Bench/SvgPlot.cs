using System.Globalization;
using System.Security;
using System.Text;

namespace FlashMoBA.Cli.Bench;

/// <summary>
/// Latency vs sequence length as a standalone SVG: log₂ x axis (N), log₁₀ y axis (ms), one line with
/// markers for the subject and one for the baseline, decade grid lines, a legend and a title.
/// </summary>
internal static class SvgPlot
{
    private const int Width = 720, Height = 460;
    private const int Left = 80, Right = 160, Top = 50, Bottom = 60;
    private const string SubjectColor = "#d62728", BaselineColor = "#1f77b4";

    /// <summary>Renders the report; rows without timings are left out of their line.</summary>
    public static string Render(BenchReport report)
    {
        var subject = report.Rows.Where(r => r.Subject is not null).Select(r => (r.Seqlen, r.Subject!.MedianMs)).ToList();
        var baseline = report.Rows.Where(r => r.Baseline is not null).Select(r => (r.Seqlen, r.Baseline!.MedianMs)).ToList();
        var all = subject.Concat(baseline).ToList();
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        string title = $"{report.Mode}: b={report.Batch} H={report.Heads} d={report.HeadDim} {report.DType} B={report.BlockSize} topK={report.TopK} on {report.Device}";
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">{Escape(title)}</text>");

        if (all.Count == 0)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\">no timings</text>");
            svg.AppendLine("</svg>");
            return svg.ToString();
        }

        double xMin = Math.Log2(all.Min(p => p.Seqlen)), xMax = Math.Log2(all.Max(p => p.Seqlen));
        xMin -= 0.3; // keep the end markers off the frame
        xMax += 0.3;
        double yMin = Math.Floor(Math.Log10(all.Min(p => p.MedianMs)));
        double yMax = Math.Ceiling(Math.Log10(all.Max(p => p.MedianMs)));
        if (yMax <= yMin) yMax = yMin + 1;
        int plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double X(double n) => Left + (Math.Log2(n) - xMin) / (xMax - xMin) * plotW;
        double Y(double ms) => Top + plotH - (Math.Log10(ms) - yMin) / (yMax - yMin) * plotH;

        // Decade grid and y labels.
        for (double e = yMin; e <= yMax; e++)
        {
            double y = Top + plotH - (e - yMin) / (yMax - yMin) * plotH;
            svg.AppendLine(F($"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Left + plotW}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/>"));
            svg.AppendLine(F($"<text x=\"{Left - 8}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{FormatMs(Math.Pow(10, e))}</text>"));
        }
        // One x tick per measured N.
        foreach (int n in all.Select(p => p.Seqlen).Distinct().Order())
        {
            double x = X(n);
            svg.AppendLine(F($"<line x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{Top + plotH}\" stroke=\"#eee\"/>"));
            svg.AppendLine(F($"<text x=\"{x:0.#}\" y=\"{Top + plotH + 18}\" text-anchor=\"middle\">{Text.Units.Tokens(n)}</text>"));
        }
        svg.AppendLine(F($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#333\"/>"));
        svg.AppendLine(F($"<text x=\"{Left + plotW / 2}\" y=\"{Height - 16}\" text-anchor=\"middle\">sequence length N (log scale)</text>"));
        svg.AppendLine(F($"<text transform=\"translate(20 {Top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\">latency, ms (log scale)</text>"));

        Series(svg, subject, SubjectColor, X, Y);
        Series(svg, baseline, BaselineColor, X, Y);
        int legendX = Left + plotW + 16;
        Legend(svg, legendX, Top + 10, SubjectColor, report.SubjectName);
        if (report.BaselineName is { } name && baseline.Count > 0) Legend(svg, legendX, Top + 30, BaselineColor, name);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void Series(StringBuilder svg, List<(int Seqlen, double MedianMs)> points, string color,
        Func<double, double> x, Func<double, double> y)
    {
        if (points.Count == 0) return;
        string path = string.Join(' ', points.Select(p => F($"{x(p.Seqlen):0.##},{y(p.MedianMs):0.##}")));
        svg.AppendLine(F($"<polyline points=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"/>"));
        foreach (var p in points)
            svg.AppendLine(F($"<circle cx=\"{x(p.Seqlen):0.##}\" cy=\"{y(p.MedianMs):0.##}\" r=\"4\" fill=\"{color}\"><title>N={p.Seqlen}: {p.MedianMs:0.###} ms</title></circle>"));
    }

    private static void Legend(StringBuilder svg, int x, int y, string color, string label)
    {
        svg.AppendLine(F($"<line x1=\"{x}\" y1=\"{y}\" x2=\"{x + 24}\" y2=\"{y}\" stroke=\"{color}\" stroke-width=\"2\"/>"));
        svg.AppendLine(F($"<circle cx=\"{x + 12}\" cy=\"{y}\" r=\"4\" fill=\"{color}\"/>"));
        svg.AppendLine(F($"<text x=\"{x + 30}\" y=\"{y + 4}\">{Escape(label)}</text>"));
    }

    private static string FormatMs(double ms) =>
        ms >= 1 ? ms.ToString("0", CultureInfo.InvariantCulture) : ms.ToString("0.###", CultureInfo.InvariantCulture);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
