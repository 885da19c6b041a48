using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Profiling markers (CUDA events on a GPU) enqueued between the launches of one forward and backward,
/// so that the device time of every stage can be read afterwards without synchronising in between.
/// </summary>
internal sealed class MobaStageMarkers : IDisposable
{
    private readonly List<(string Stage, ProfilingMarker Marker)> marks = [];
    private ProfilingMarker? start;

    /// <summary>Forgets earlier marks and enqueues the starting marker.</summary>
    public void Begin(AcceleratorStream stream)
    {
        Dispose();
        start = stream.AddProfilingMarker();
    }

    /// <summary>Enqueues the marker that ends <paramref name="stage"/> (begun by the previous marker).</summary>
    public void Mark(AcceleratorStream stream, string stage)
    {
        if (start is null) Begin(stream);
        marks.Add((stage, stream.AddProfilingMarker()));
    }

    /// <summary>
    /// Waits for the last marker and returns each stage's device time, in the order stages first ran; a
    /// stage marked several times (once per chunk of heads) reports the sum of its parts.
    /// </summary>
    public IReadOnlyList<MobaAttentionStageTime> Measure()
    {
        if (start is null || marks.Count == 0) return [];
        marks[^1].Marker.Synchronize();
        var order = new List<string>();
        var totals = new Dictionary<string, double>();
        var previous = start;
        foreach (var (stage, marker) in marks)
        {
            if (!totals.ContainsKey(stage))
            {
                order.Add(stage);
                totals[stage] = 0;
            }
            totals[stage] += marker.MeasureFrom(previous).TotalMilliseconds;
            previous = marker;
        }
        return order.ConvertAll(stage => new MobaAttentionStageTime(stage, totals[stage]));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        start?.Dispose();
        start = null;
        foreach (var (_, marker) in marks) marker.Dispose();
        marks.Clear();
    }
}
