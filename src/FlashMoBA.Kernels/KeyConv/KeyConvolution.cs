using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Host entry points of the key convolution (DESIGN.md §3): validate every argument, then launch
/// <see cref="KeyConvForward"/> or <see cref="KeyConvBackward"/> on the given stream without
/// synchronizing. Keys are <c>ILGPU.Half</c>, <c>System.Half</c> or <see cref="BFloat16"/> views
/// <c>[TotalK, HeadsKv, HeadDim]</c>; weights and dW are fp32 <c>[Width, HeadsKv, HeadDim]</c>.
/// <c>cuSeqlensK</c> lives on the device, so its contents (starts at 0, non-decreasing, ends at
/// <c>TotalK</c>) are the caller's promise: rows past its last entry are left unwritten.
/// </summary>
internal static class KeyConvolution
{
    /// <summary>Vector loads need every 16-bit view to start on a 16-byte boundary.</summary>
    private const int RequiredAlignment = 16;

    /// <summary>
    /// Writes <c>k′ = k + SiLU(conv(k))</c> into <paramref name="kOut"/>, which must not overlap
    /// <paramref name="k"/>.
    /// </summary>
    public static void Forward<T>(AcceleratorStream stream, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<int, Stride1D.Dense> cuSeqlensK, ArrayView1D<float, Stride1D.Dense> weights, KeyConvShape shape,
        ArrayView1D<T, Stride1D.Dense> kOut,
        int runLength = KeyConvForward.DefaultRunLength)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        var elementType = ElementTypeOf<T>(nameof(k));
        ValidateCommon(shape, cuSeqlensK, weights, runLength);
        RequireKeyView(k, shape, nameof(k));
        RequireKeyView(kOut, shape, nameof(kOut));
        RequireDisjoint(kOut, k, nameof(kOut), nameof(k));

        int groups = shape.Channels / KeyConvForward.LanesPerThread;
        var args = new KeyConvForwardArgs(k.BaseView.Cast<PackedHalves8>(), cuSeqlensK,
            weights.BaseView.Cast<Lanes8>(), kOut.BaseView.Cast<PackedHalves8>(), shape.Batch, shape.TotalK, groups,
            runLength);
        KeyConvForward.Launch(KernelCache.For(stream.Accelerator), stream, elementType, shape, args);
    }

    /// <summary>Allocates k′ on the stream's accelerator and computes it (see the overload with an output
    /// view); the caller owns the buffer.</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> Forward<T>(AcceleratorStream stream,
        ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<int, Stride1D.Dense> cuSeqlensK,
        ArrayView1D<float, Stride1D.Dense> weights, KeyConvShape shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        shape.Validate(nameof(shape));
        var kOut = stream.Accelerator.Allocate1D<T>(shape.KeyElements);
        try
        {
            Forward(stream, k, cuSeqlensK, weights, shape, kOut.View);
            return kOut;
        }
        catch
        {
            kOut.Dispose();
            throw;
        }
    }

    /// <summary>dW partial rows that fill this accelerator once; the backward's scratch is this many
    /// dW-sized rows.</summary>
    public static int DefaultPartials(Accelerator accelerator, ElementType elementType, KeyConvShape shape)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        shape.Validate(nameof(shape));
        return KeyConvBackward.DefaultPartials(KernelCache.For(accelerator), shape, elementType);
    }

    /// <summary>
    /// Given dK′, writes dK (overlapping neither k nor dK′) and dW. <paramref name="dwPartials"/> is
    /// scratch of at least <c>partials · Width · HeadsKv · HeadDim</c> floats (<see cref="DefaultPartials"/>
    /// suits the device); the result does not depend on launch timing (fixed summation order for given
    /// <paramref name="partials"/> and <paramref name="runLength"/>). A null run length picks
    /// <see cref="KeyConvBackward.DefaultRunLength"/>; <paramref name="l2PrefetchRows"/> (0 = off) tunes
    /// how far ahead the inputs are prefetched into L2 and does not change the results.
    /// </summary>
    public static void Backward<T>(AcceleratorStream stream, ArrayView1D<T, Stride1D.Dense> k,
        ArrayView1D<int, Stride1D.Dense> cuSeqlensK, ArrayView1D<float, Stride1D.Dense> weights,
        ArrayView1D<T, Stride1D.Dense> dKPrime, KeyConvShape shape, ArrayView1D<T, Stride1D.Dense> dK,
        ArrayView1D<float, Stride1D.Dense> dW, ArrayView1D<float, Stride1D.Dense> dwPartials, int partials,
        int? runLength = null, int l2PrefetchRows = KeyConvBackward.DefaultL2PrefetchRows)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        var elementType = ElementTypeOf<T>(nameof(k));
        ValidateCommon(shape, cuSeqlensK, weights, runLength);
        RequireKeyView(k, shape, nameof(k));
        RequireKeyView(dKPrime, shape, nameof(dKPrime));
        RequireKeyView(dK, shape, nameof(dK));
        RequireDisjoint(dK, k, nameof(dK), nameof(k));
        RequireDisjoint(dK, dKPrime, nameof(dK), nameof(dKPrime));
        if (dW.Length != shape.WeightElements)
            throw new ArgumentException(
                $"dW must hold Width · HeadsKv · HeadDim = {shape.WeightElements} floats (was {dW.Length}).",
                nameof(dW));
        if (partials < 1)
            throw new ArgumentException($"partials must be at least 1 (was {partials}).", nameof(partials));
        if (dwPartials.Length < (long)partials * shape.WeightElements)
            throw new ArgumentException(
                $"dwPartials must hold partials · Width · HeadsKv · HeadDim = "
                + $"{(long)partials * shape.WeightElements} floats (was {dwPartials.Length}).",
                nameof(dwPartials));
        RequireDisjoint(dW, dwPartials, nameof(dW), nameof(dwPartials));
        if (l2PrefetchRows < 0)
            throw new ArgumentException($"l2PrefetchRows must not be negative (was {l2PrefetchRows}).",
                nameof(l2PrefetchRows));

        int groups = shape.Channels / KeyConvBackward.LanesPerThread;
        var args = new KeyConvBackwardArgs(k.BaseView.Cast<PackedHalves2>(), dKPrime.BaseView.Cast<PackedHalves2>(),
            cuSeqlensK, weights.BaseView.Cast<Lanes2>(), dK.BaseView.Cast<PackedHalves2>(),
            dwPartials.SubView(0, (long)partials * shape.WeightElements),
            shape.Batch, shape.TotalK, groups, runLength ?? KeyConvBackward.DefaultRunLength(shape.TotalK, partials),
            partials, l2PrefetchRows);
        KeyConvBackward.Launch(KernelCache.For(stream.Accelerator), stream, elementType, shape, args, dW);
    }

    /// <summary>Allocates dK, dW and the scratch on the stream's accelerator, computes them and waits;
    /// the caller owns the buffers.</summary>
    public static (MemoryBuffer1D<T, Stride1D.Dense> DK, MemoryBuffer1D<float, Stride1D.Dense> DW) Backward<T>(
        AcceleratorStream stream, ArrayView1D<T, Stride1D.Dense> k, ArrayView1D<int, Stride1D.Dense> cuSeqlensK,
        ArrayView1D<float, Stride1D.Dense> weights, ArrayView1D<T, Stride1D.Dense> dKPrime, KeyConvShape shape)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        var elementType = ElementTypeOf<T>(nameof(k));
        shape.Validate(nameof(shape));
        var accelerator = stream.Accelerator;
        int partials = KeyConvBackward.DefaultPartials(KernelCache.For(accelerator), shape, elementType);
        var dK = accelerator.Allocate1D<T>(shape.KeyElements);
        var dW = accelerator.Allocate1D<float>(shape.WeightElements);
        try
        {
            using var scratch = accelerator.Allocate1D<float>((long)partials * shape.WeightElements);
            Backward(stream, k, cuSeqlensK, weights, dKPrime, shape, dK.View, dW.View, scratch.View, partials);
            stream.Synchronize();
            return (dK, dW);
        }
        catch
        {
            dK.Dispose();
            dW.Dispose();
            throw;
        }
    }

    /// <summary>The storage type of <typeparamref name="T"/>, or an exception naming
    /// <paramref name="paramName"/>.</summary>
    public static ElementType ElementTypeOf<T>(string paramName)
        where T : unmanaged =>
        typeof(T) == typeof(ILGPU.Half) || typeof(T) == typeof(System.Half) ? ElementType.Float16
        : typeof(T) == typeof(BFloat16) ? ElementType.BFloat16
        : throw new ArgumentException(
            $"{paramName} must hold ILGPU.Half, System.Half or FlashMoBA.BFloat16 (was {typeof(T).Name}).", paramName);

    private static void ValidateCommon(KeyConvShape shape, ArrayView1D<int, Stride1D.Dense> cuSeqlensK,
        ArrayView1D<float, Stride1D.Dense> weights, int? runLength)
    {
        shape.Validate(nameof(shape));
        if (runLength < 1)
            throw new ArgumentException($"runLength must be at least 1 (was {runLength}).", nameof(runLength));
        if (cuSeqlensK.Length != shape.Batch + 1)
            throw new ArgumentException(
                $"cuSeqlensK must hold Batch + 1 = {shape.Batch + 1} entries (was {cuSeqlensK.Length}).",
                nameof(cuSeqlensK));
        if (weights.Length != shape.WeightElements)
            throw new ArgumentException(
                $"weights must hold Width · HeadsKv · HeadDim = {shape.WeightElements} floats "
                + $"(was {weights.Length}).",
                nameof(weights));
        RequireAligned(weights, nameof(weights));
    }

    private static void RequireKeyView<T>(ArrayView1D<T, Stride1D.Dense> view, KeyConvShape shape, string paramName)
        where T : unmanaged
    {
        if (view.Length != shape.KeyElements)
            throw new ArgumentException(
                $"{paramName} must hold TotalK · HeadsKv · HeadDim = {shape.KeyElements} elements "
                + $"(was {view.Length}).",
                paramName);
        RequireAligned(view, paramName);
    }

    private static void RequireAligned<T>(ArrayView1D<T, Stride1D.Dense> view, string paramName)
        where T : unmanaged
    {
        long offset = ((IContiguousArrayView)view.BaseView).IndexInBytes;
        if (offset % RequiredAlignment != 0)
            throw new ArgumentException(
                $"{paramName} must start {RequiredAlignment}-byte aligned within its buffer (offset {offset} bytes).",
                paramName);
    }

    private static void RequireDisjoint<TA, TB>(ArrayView1D<TA, Stride1D.Dense> written,
        ArrayView1D<TB, Stride1D.Dense> read, string writtenName,
        string readName)
        where TA : unmanaged
        where TB : unmanaged
    {
        if (written.Length == 0 || read.Length == 0) return;
        var w = (IContiguousArrayView)written.BaseView;
        var r = (IContiguousArrayView)read.BaseView;
        if (!ReferenceEquals(w.Buffer, r.Buffer)) return;
        long wStart = w.IndexInBytes, rStart = r.IndexInBytes;
        if (wStart < rStart + read.LengthInBytes && rStart < wStart + written.LengthInBytes)
            throw new ArgumentException($"{writtenName} must not overlap {readName}.", writtenName);
    }
}
