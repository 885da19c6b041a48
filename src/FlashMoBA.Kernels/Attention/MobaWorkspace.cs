using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Scratch memory of the MoBA passes, grown on demand and reused by every call: the fp32 accumulator
/// of one chunk of heads <c>[totalQ, chunk heads, d]</c> (the output in the forward, dQ in the backward —
/// never both at once; in the forward it first holds the per-slot statistics of a group of heads)
/// followed, in the backward, by D for all heads. With head chunking (<see cref="MobaHeadChunking"/>)
/// it stays a few percent of the call's inputs and outputs instead of one fp32 copy of q.
/// </summary>
internal sealed class MobaWorkspace : IDisposable
{
    private readonly Accelerator accelerator;
    private MemoryBuffer1D<float, Stride1D.Dense>? buffer;

    /// <summary>A workspace on <paramref name="accelerator"/>; nothing is allocated yet.</summary>
    public MobaWorkspace(Accelerator accelerator) => this.accelerator = accelerator;

    /// <summary>Bytes currently held.</summary>
    public long DeviceBytes => buffer?.LengthInBytes ?? 0;

    /// <summary>
    /// Views of <paramref name="accumulatorFloats"/> and <paramref name="extraFloats"/> floats, reallocating
    /// (after the work queued on <paramref name="stream"/> that may still use the old buffer) when too small.
    /// </summary>
    public (ArrayView<float> Accumulator, ArrayView<float> Extra) Get(AcceleratorStream stream, long accumulatorFloats,
        long extraFloats)
    {
        // Keep the second view 16-byte aligned so that it can be read as 16-byte chunks.
        long accumulator = (accumulatorFloats + 3) / 4 * 4;
        long needed = Math.Max(1, accumulator + extraFloats);
        if (buffer is null || buffer.Length < needed)
        {
            stream.Synchronize();
            buffer?.Dispose();
            buffer = null;
            buffer = accelerator.Allocate1D<float>(needed);
        }
        var view = buffer.View.AsContiguous();
        // An empty second view is the default one: a sub view may not start at the end of the buffer.
        return (view.SubView(0, accumulatorFloats), extraFloats == 0 ? default : view.SubView(accumulator, extraFloats));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
    }
}
