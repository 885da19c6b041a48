namespace FlashMoBA;

/// <summary>
/// Checks the arguments of an attention call before anything is launched: tensor ranks and sizes
/// against the <see cref="VarlenBatch"/>, head counts, head dimension, element types. A broken rule
/// throws <see cref="ArgumentException"/> whose ParamName is the offending argument and whose message
/// states the rule and the value seen.
/// </summary>
/// <remarks>
/// Values are NOT inspected: NaN or infinite inputs are not detected (doing so would cost a pass
/// over every tensor) and propagate into the outputs as they would in any floating-point kernel.
/// </remarks>
public static class AttentionShapes
{
    /// <summary>Head dimensions the kernels are compiled for.</summary>
    public static ReadOnlySpan<int> SupportedHeadDims => [64, 128];

    /// <summary>Validates q, k, v shapes against the batch and the configuration.</summary>
    /// <param name="q">Shape of q: <c>[totalQ, H, d]</c>.</param>
    /// <param name="k">Shape of k: <c>[totalK, Hk, d]</c>.</param>
    /// <param name="v">Shape of v: the same as k.</param>
    /// <param name="batch">The varlen batch (its totals must match the first dimensions).</param>
    /// <param name="config">The attention configuration.</param>
    /// <returns>The validated sizes and the resolved softmax scale.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> or <paramref name="config"/> is null.</exception>
    /// <exception cref="ArgumentException">A rule is broken: rank ≠ 3 or a dimension &lt; 1; totalQ ≠
    /// batch.TotalQ or totalK ≠ batch.TotalK; v's shape ≠ k's; H % Hk ≠ 0; k or v head dim ≠ q's; d not in
    /// <see cref="SupportedHeadDims"/>; <see cref="MobaConfig.HeadChunk"/> set but not a multiple of H / Hk.</exception>
    public static AttentionDims Validate(ReadOnlySpan<int> q, ReadOnlySpan<int> k, ReadOnlySpan<int> v,
        VarlenBatch batch, MobaConfig config)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(config);
        CheckRank3(q, nameof(q), "[totalQ, H, d]");
        CheckRank3(k, nameof(k), "[totalK, Hk, d]");
        CheckRank3(v, nameof(v), "[totalK, Hk, d]");

        int totalQ = q[0], heads = q[1], headDim = q[2];
        int totalK = k[0], headsKv = k[1];
        if (totalQ != batch.TotalQ)
            throw new ArgumentException(
                $"q has {totalQ} rows but the batch's cuSeqlensQ totals {batch.TotalQ}; q must be [totalQ, H, d].", nameof(q));
        if (totalK != batch.TotalK)
            throw new ArgumentException(
                $"k has {totalK} rows but the batch's cuSeqlensK totals {batch.TotalK}; k must be [totalK, Hk, d].", nameof(k));
        if (k[2] != headDim)
            throw new ArgumentException($"k head dim {k[2]} must equal q head dim {headDim}.", nameof(k));
        if (v[2] != headDim)
            throw new ArgumentException($"v head dim {v[2]} must equal q head dim {headDim}.", nameof(v));
        if (v[0] != totalK || v[1] != headsKv)
            throw new ArgumentException(
                $"v shape {Format(v)} must equal k shape {Format(k)}.", nameof(v));
        if (heads % headsKv != 0)
            throw new ArgumentException(
                $"q heads H = {heads} must be a multiple of k heads Hk = {headsKv} (GQA/MQA groups).", nameof(k));
        if (!SupportedHeadDims.Contains(headDim))
            throw new ArgumentException(
                $"head dim d = {headDim} is not supported; supported: {string.Join(", ", SupportedHeadDims.ToArray())}.", nameof(q));

        if (config.HeadChunk is { } chunk && chunk % (heads / headsKv) != 0)
            throw new ArgumentException(
                $"config.HeadChunk = {chunk} must be a multiple of the GQA group size H / Hk = {heads / headsKv} "
                + "(chunks are whole groups).", nameof(config));

        return new AttentionDims(totalQ, totalK, heads, headsKv, headDim, config.ResolveSoftmaxScale(headDim));
    }

    /// <summary>Validates device tensors: their shapes as in the shape overload, and that each holds the
    /// configuration's <see cref="MobaConfig.ElementType"/>.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A shape rule is broken or a tensor's element type differs from
    /// <c>config.ElementType</c>.</exception>
    public static AttentionDims Validate<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        VarlenBatch batch, MobaConfig config) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(config);
        CheckElementType(q, config.ElementType, nameof(q));
        CheckElementType(k, config.ElementType, nameof(k));
        CheckElementType(v, config.ElementType, nameof(v));
        return Validate(q.Shape, k.Shape, v.Shape, batch, config);
    }

    /// <summary>Checks that a tensor argument (a gradient, an output buffer) has exactly <paramref name="expected"/> as its shape.</summary>
    /// <param name="actual">The argument's shape.</param>
    /// <param name="expected">The required shape, e.g. <see cref="AttentionDims.QShape"/>.</param>
    /// <param name="paramName">The argument's name, reported as ParamName.</param>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static void RequireShape(ReadOnlySpan<int> actual, ReadOnlySpan<int> expected, string paramName)
    {
        if (!actual.SequenceEqual(expected))
            throw new ArgumentException(
                $"{paramName} must have shape {Format(expected)}, but has {Format(actual)}.", paramName);
    }

    /// <summary>Checks key-convolution weights <c>[W, Hk, d]</c> against the validated sizes and the configured width.</summary>
    /// <param name="weights">Shape of the weights.</param>
    /// <param name="dims">Sizes from <see cref="Validate(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, VarlenBatch, MobaConfig)"/>.</param>
    /// <param name="config">A configuration with <see cref="MobaConfig.KeyConvWidth"/> set.</param>
    /// <exception cref="ArgumentException">The configuration has no key convolution, or the shape is not <c>[W, Hk, d]</c>.</exception>
    public static void ValidateKeyConvWeights(ReadOnlySpan<int> weights, AttentionDims dims, MobaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.KeyConvWidth is not { } width)
            throw new ArgumentException("config.KeyConvWidth must be 3 or 5 when key-convolution weights are given.", nameof(config));
        RequireShape(weights, [width, dims.HeadsKv, dims.HeadDim], nameof(weights));
    }

    internal static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    private static void CheckRank3(ReadOnlySpan<int> shape, string paramName, string layout)
    {
        if (shape.Length != 3)
            throw new ArgumentException(
                $"{paramName} must have rank 3 {layout}, but has shape {Format(shape)}.", paramName);
        if (shape[1] < 1 || shape[2] < 1 || shape[0] < 0)
            throw new ArgumentException(
                $"{paramName} {layout} must have heads and head dim >= 1 and rows >= 0, but has shape {Format(shape)}.", paramName);
    }

    private static void CheckElementType<T>(DeviceTensor<T> tensor, ElementType expected, string paramName)
        where T : unmanaged
    {
        if (tensor.ElementType != expected)
            throw new ArgumentException(
                $"{paramName} holds {typeof(T).Name} but config.ElementType is {expected}.", paramName);
    }
}
