namespace FlashMoBA.Cli.Bench;

/// <summary>Summary of repeated timings in milliseconds.</summary>
/// <param name="MedianMs">Median.</param>
/// <param name="MinMs">Fastest.</param>
/// <param name="MaxMs">Slowest.</param>
/// <param name="MeanMs">Mean.</param>
/// <param name="SamplesMs">Every timed iteration, in order.</param>
internal sealed record TimingStats(double MedianMs, double MinMs, double MaxMs, double MeanMs, IReadOnlyList<double> SamplesMs)
{
    /// <summary>Half the min–max range relative to the median, in percent: the ± shown in tables.</summary>
    public double SpreadPercent => MedianMs > 0 ? (MaxMs - MinMs) / 2 / MedianMs * 100 : 0;

    /// <summary>Summarises samples (at least one).</summary>
    public static TimingStats From(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("at least one sample is needed.", nameof(samples));
        var sorted = samples.Order().ToArray();
        int mid = sorted.Length / 2;
        double median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new TimingStats(median, sorted[0], sorted[^1], samples.Average(), samples.ToArray());
    }
}
