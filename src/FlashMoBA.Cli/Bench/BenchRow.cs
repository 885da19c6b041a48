namespace FlashMoBA.Cli.Bench;

/// <summary>One sequence length of a sweep.</summary>
/// <param name="Seqlen">Tokens per sequence N.</param>
/// <param name="Subject">Timing of the mode's target, null when it did not run (see <paramref name="Note"/>).</param>
/// <param name="Baseline">Timing of the baseline (dense), null when absent or skipped.</param>
/// <param name="SubjectFlops">Effective FLOPs of one subject iteration.</param>
/// <param name="PeakDeviceBytes">Largest device memory in use above the pre-allocation level while the
/// subject ran (CUDA driver's used memory, sampled after set-up and after each iteration); null on the CPU.</param>
/// <param name="BaselinePeakDeviceBytes">The same for the baseline; null on the CPU or when the baseline did not run.</param>
/// <param name="Note">Why something did not run (out of memory, above --dense-max-seqlen), or empty.</param>
internal sealed record BenchRow(int Seqlen, TimingStats? Subject, TimingStats? Baseline, double SubjectFlops, long? PeakDeviceBytes,
    long? BaselinePeakDeviceBytes, string Note)
{
    /// <summary>Baseline median / subject median, or null.</summary>
    public double? Speedup => Subject is { } s && Baseline is { } b && s.MedianMs > 0 ? b.MedianMs / s.MedianMs : null;

    /// <summary>Subject peak memory / baseline peak memory, or null when either is unknown.</summary>
    public double? MemoryRatio => PeakDeviceBytes is { } s && BaselinePeakDeviceBytes is { } b && b > 0 ? (double)s / b : null;

    /// <summary>Effective TFLOP/s of the subject at its median, or null.</summary>
    public double? Tflops => Subject is { MedianMs: > 0 } s ? SubjectFlops / (s.MedianMs * 1e-3) / 1e12 : null;
}
