using FlashMoBA.Cli.Devices;
using FlashMoBA.Cli.Text;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Cli.Bench;

/// <summary>
/// Times a subject target (and an optional baseline) over a list of shapes: warm-up iterations, then
/// each repeat between two profiling markers (CUDA events on a GPU), median and spread of the repeats,
/// and the peak device memory of each. Stops the sweep at the first shape the subject cannot allocate.
/// </summary>
internal sealed class BenchRunner(DeviceSession session, ProgressBar progress)
{
    /// <summary>Untimed iterations before timing (kernel compilation, caches, clocks).</summary>
    public required int Warmup { get; init; }

    /// <summary>Timed iterations per point.</summary>
    public required int Repeats { get; init; }

    /// <summary>Longest sequence the baseline runs at (dense attention grows with N²).</summary>
    public required int BaselineMaxSeqlen { get; init; }

    /// <summary>Runs the sweep.</summary>
    public IReadOnlyList<BenchRow> Sweep(IReadOnlyList<BenchShape> shapes, IBenchTarget subject, IBenchTarget? baseline, BenchPass pass)
    {
        var rows = new List<BenchRow>();
        var context = new BenchContext(session);
        foreach (var shape in shapes)
        {
            string n = Units.Tokens(shape.Seqlen);
            progress.Step($"N={n} {subject.Name}");
            var (subjectTiming, peak, subjectNote) = Measure(context, subject, shape, pass);
            progress.Done();

            TimingStats? baselineTiming = null;
            long? baselinePeak = null;
            string note = subjectNote;
            if (baseline is not null)
            {
                progress.Step($"N={n} {baseline.Name}");
                if (shape.Seqlen > BaselineMaxSeqlen)
                {
                    note = Join(note, $"{baseline.Name} skipped above --dense-max-seqlen {Units.Tokens(BaselineMaxSeqlen)}");
                }
                else
                {
                    (baselineTiming, baselinePeak, string baselineNote) = Measure(context, baseline, shape, pass);
                    note = Join(note, baselineNote);
                }
                progress.Done();
            }
            rows.Add(new BenchRow(shape.Seqlen, subjectTiming, baselineTiming, subject.Flops(shape, pass), peak, baselinePeak, note));
            if (subjectTiming is null) break; // larger N will not fit either
        }
        progress.Finish();
        return rows;
    }

    private (TimingStats? Timing, long? PeakBytes, string Note) Measure(BenchContext context, IBenchTarget target, BenchShape shape, BenchPass pass)
    {
        var accelerator = session.Accelerator;
        accelerator.Synchronize();
        long? before = session.DeviceMemoryInUse();
        long? peak = null;
        IBenchInstance? instance = null;
        try
        {
            instance = target.Prepare(context, shape, pass);
            accelerator.Synchronize();
            peak = Max(peak, session.DeviceMemoryInUse() - before);
            for (int i = 0; i < Warmup; i++) instance.Run();
            accelerator.Synchronize();

            var samples = new double[Repeats];
            for (int r = 0; r < Repeats; r++)
            {
                using var start = accelerator.AddProfilingMarker();
                instance.Run();
                using var end = accelerator.AddProfilingMarker();
                peak = Max(peak, session.DeviceMemoryInUse() - before);
                end.Synchronize();
                samples[r] = end.MeasureFrom(start).TotalMilliseconds;
            }
            return (TimingStats.From(samples), peak, "");
        }
        catch (Exception ex) when (IsOutOfMemory(ex))
        {
            return (null, peak, $"{target.Name} out of device memory at N={Units.Tokens(shape.Seqlen)}");
        }
        finally
        {
            instance?.Dispose();
            accelerator.Synchronize();
        }
    }

    /// <summary>True for allocation failures of the CUDA driver or of the CPU accelerator's host memory.</summary>
    public static bool IsOutOfMemory(Exception ex) =>
        ex is OutOfMemoryException
        || (ex is CudaException cuda && cuda.Error == nameof(CudaError.CUDA_ERROR_OUT_OF_MEMORY))
        || (ex.InnerException is { } inner && IsOutOfMemory(inner));

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "; " + b;
}
