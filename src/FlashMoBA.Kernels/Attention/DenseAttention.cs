using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// Host entry of dense FlashAttention-2 (DESIGN.md §4.4), the baseline of every benchmark and the path of
/// dense layers: checks the views against the shape, then enqueues the forward (output + LSE) or the
/// backward (D = rowsum(dO∘O), the per-key-tile main kernel, dQ's conversion) on a stream. Causal
/// masking is bottom-right aligned; a row that sees no key gets output 0 and LSE +∞.
/// </summary>
internal static class DenseAttention
{
    /// <summary>Enqueues the forward: <paramref name="output"/> = softmax(scale·q·kᵀ)·v and its natural-log <paramref name="lse"/>.</summary>
    /// <exception cref="ArgumentException">A view's length, the shape, the element type or the scale is invalid.</exception>
    public static void Forward<T>(KernelCache cache, AcceleratorStream stream, ArrayView<T> q, ArrayView<T> k,
        ArrayView<T> v, ArrayView<int> cuSeqlensQ, ArrayView<int> cuSeqlensK, DenseShape shape, bool causal,
        float softmaxScale, ArrayView<T> output, ArrayView<float> lse)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(stream);
        ValidateInputs(q, k, v, cuSeqlensQ, cuSeqlensK, shape, softmaxScale);
        RequireLength(output.Length, shape.QLength, nameof(output), "[TotalQ, Heads, HeadDim]");
        RequireLength(lse.Length, shape.LseLength, nameof(lse), "[Heads, TotalQ]");
        if (shape.TotalQ == 0) return;
        var args = new DenseForwardArgs(q.Cast<Chunk16>(), k.Cast<Chunk16>(), v.Cast<Chunk16>(), cuSeqlensQ, cuSeqlensK,
            output.Cast<uint>(), lse, shape.TotalQ, shape.Heads, shape.HeadsKv,
            (shape.MaxSeqlenQ + DenseForward.BlockM - 1) / DenseForward.BlockM, causal ? 1 : 0, softmaxScale,
            softmaxScale * MobaScale.Log2E);
        DenseForward.Launch<T>(cache, stream, args, shape.Batch, shape.HeadDim);
    }

    /// <summary>
    /// Enqueues the backward: gradients of the forward's output w.r.t. q, k and v (dK and dV summed over each
    /// GQA group). <paramref name="delta"/> (<c>[Heads, TotalQ]</c>) and <paramref name="dqAccumulator"/>
    /// (fp32 <c>[TotalQ, Heads, HeadDim]</c>, unscaled, columns in <see cref="InterleavedColumns"/> order) are scratch;
    /// the accumulator is zeroed here.
    /// </summary>
    /// <exception cref="ArgumentException">A view's length, the shape, the element type or the scale is invalid.</exception>
    public static void Backward<T>(KernelCache cache, AcceleratorStream stream, ArrayView<T> dOut, ArrayView<T> q,
        ArrayView<T> k, ArrayView<T> v, ArrayView<T> output, ArrayView<float> lse, ArrayView<int> cuSeqlensQ,
        ArrayView<int> cuSeqlensK, DenseShape shape, bool causal, float softmaxScale, ArrayView<float> delta,
        ArrayView<float> dqAccumulator, ArrayView<T> dq, ArrayView<T> dk, ArrayView<T> dv)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(stream);
        ValidateInputs(q, k, v, cuSeqlensQ, cuSeqlensK, shape, softmaxScale);
        RequireLength(dOut.Length, shape.QLength, nameof(dOut), "[TotalQ, Heads, HeadDim]");
        RequireLength(output.Length, shape.QLength, nameof(output), "[TotalQ, Heads, HeadDim]");
        RequireLength(lse.Length, shape.LseLength, nameof(lse), "[Heads, TotalQ]");
        RequireLength(delta.Length, shape.LseLength, nameof(delta), "[Heads, TotalQ]");
        RequireLength(dqAccumulator.Length, shape.QLength, nameof(dqAccumulator), "[TotalQ, Heads, HeadDim]");
        DenseBackward.RequireAlignedAccumulator(dqAccumulator, nameof(dqAccumulator));
        RequireLength(dq.Length, shape.QLength, nameof(dq), "[TotalQ, Heads, HeadDim]");
        RequireLength(dk.Length, shape.KvLength, nameof(dk), "[TotalK, HeadsKv, HeadDim]");
        RequireLength(dv.Length, shape.KvLength, nameof(dv), "[TotalK, HeadsKv, HeadDim]");
        if (shape.TotalK > 0 && shape.TotalQ == 0)
        {
            // No query row: every key gradient is zero and no kernel has anything to read.
            dk.MemSetToZero(stream);
            dv.MemSetToZero(stream);
            return;
        }
        if (shape.TotalQ == 0) return;

        int chunksPerRow = shape.HeadDim / Chunk16.Elements;
        MobaBackwardPreprocess.Launch<T>(cache, stream, new MobaBackwardPreprocess.Args(
            dOut.Cast<Chunk16>(), output.Cast<Chunk16>(), delta, shape.TotalQ, shape.Heads, chunksPerRow));
        dqAccumulator.MemSetToZero(stream);
        var args = new DenseBackwardArgs(q.Cast<Chunk16>(), k.Cast<Chunk16>(), v.Cast<Chunk16>(), dOut.Cast<Chunk16>(),
            cuSeqlensQ, cuSeqlensK, lse, delta, dqAccumulator, dk.Cast<uint>(), dv.Cast<uint>(), shape.TotalQ,
            shape.Heads, shape.HeadsKv, (shape.MaxSeqlenK + DenseBackward.BlockN - 1) / DenseBackward.BlockN,
            causal ? 1 : 0, softmaxScale, softmaxScale * MobaScale.Log2E);
        DenseBackward.Launch<T>(cache, stream, args, shape.Batch, shape.HeadDim);
        MobaAccumulatorConvert.Launch(cache, stream, dqAccumulator, dq, shape.Heads, shape.HeadDim,
            new MobaHeadRange(0, shape.Heads), softmaxScale);
    }

    private static void ValidateInputs<T>(ArrayView<T> q, ArrayView<T> k, ArrayView<T> v, ArrayView<int> cuSeqlensQ,
        ArrayView<int> cuSeqlensK, DenseShape shape, float softmaxScale)
        where T : unmanaged
    {
        MobaElement.OpsOf<T>();
        MobaElement.HeadDimOf(shape.HeadDim);
        if (shape.Batch < 1)
            throw new ArgumentException($"batch must be at least 1, got {shape.Batch}.", nameof(shape));
        if (shape.Heads < 1 || shape.HeadsKv < 1 || shape.Heads % shape.HeadsKv != 0)
        {
            throw new ArgumentException(
                $"heads ({shape.Heads}) must be a positive multiple of headsKv ({shape.HeadsKv}).", nameof(shape));
        }
        if (shape.TotalQ < 0 || shape.TotalK < 0 || shape.MaxSeqlenQ < 0 || shape.MaxSeqlenK < 0)
            throw new ArgumentException("totals and maximum lengths must not be negative.", nameof(shape));
        if (!float.IsFinite(softmaxScale) || softmaxScale <= 0f)
            throw new ArgumentException($"softmaxScale must be finite and positive, got {softmaxScale}.", nameof(softmaxScale));
        RequireLength(q.Length, shape.QLength, nameof(q), "[TotalQ, Heads, HeadDim]");
        RequireLength(k.Length, shape.KvLength, nameof(k), "[TotalK, HeadsKv, HeadDim]");
        RequireLength(v.Length, shape.KvLength, nameof(v), "[TotalK, HeadsKv, HeadDim]");
        RequireLength(cuSeqlensQ.Length, shape.Batch + 1L, nameof(cuSeqlensQ), "[Batch + 1]");
        RequireLength(cuSeqlensK.Length, shape.Batch + 1L, nameof(cuSeqlensK), "[Batch + 1]");
    }

    private static void RequireLength(long actual, long expected, string name, string layout)
    {
        if (actual != expected)
            throw new ArgumentException($"{name} must have {expected} elements ({layout}), got {actual}.", name);
    }
}
