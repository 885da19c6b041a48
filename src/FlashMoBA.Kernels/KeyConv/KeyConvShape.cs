namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Shape of a key convolution (DESIGN.md §3): keys <c>[TotalK, HeadsKv, HeadDim]</c> over
/// <c>Batch</c> sequences delimited by <c>cuSeqlensK [Batch+1]</c>, weights
/// <c>[Width, HeadsKv, HeadDim]</c> fp32. The kernels see one row of <c>Channels = HeadsKv · HeadDim</c>
/// values per token.
/// </summary>
/// <param name="Batch">Number of sequences (≥ 1).</param>
/// <param name="TotalK">Key rows over the batch; equals <c>cuSeqlensK[Batch]</c>.</param>
/// <param name="HeadsKv">KV heads Hk (≥ 1).</param>
/// <param name="HeadDim">Head dimension d, a positive multiple of 8 (one 16-byte vector of fp16/bf16).</param>
/// <param name="Width">Convolution width W: 3 or 5.</param>
internal readonly record struct KeyConvShape(int Batch, int TotalK, int HeadsKv, int HeadDim, int Width)
{
    /// <summary>Values per token row: <c>HeadsKv · HeadDim</c>.</summary>
    public int Channels => HeadsKv * HeadDim;

    /// <summary>Elements of k, k′, dK′ and dK: <c>TotalK · Channels</c>.</summary>
    public long KeyElements => (long)TotalK * HeadsKv * HeadDim;

    /// <summary>Elements of the weights and of dW: <c>Width · Channels</c>.</summary>
    public int WeightElements => Width * Channels;

    /// <summary>Throws <see cref="ArgumentException"/> naming the broken rule.</summary>
    public void Validate(string paramName)
    {
        if (Width is not (3 or 5))
            throw new ArgumentException($"{paramName}.Width must be 3 or 5 (was {Width}).", paramName);
        if (Batch < 1)
            throw new ArgumentException($"{paramName}.Batch must be at least 1 (was {Batch}).", paramName);
        if (TotalK < 0)
            throw new ArgumentException($"{paramName}.TotalK must not be negative (was {TotalK}).", paramName);
        if (HeadsKv < 1)
            throw new ArgumentException($"{paramName}.HeadsKv must be at least 1 (was {HeadsKv}).", paramName);
        if (HeadDim < 8 || HeadDim % 8 != 0)
            throw new ArgumentException(
                $"{paramName}.HeadDim must be a positive multiple of 8 (was {HeadDim}).", paramName);
        // Kernels index rows with 32-bit integers.
        if ((long)HeadsKv * HeadDim * Width > int.MaxValue || KeyElements > int.MaxValue)
            throw new ArgumentException(
                $"{paramName}: TotalK · HeadsKv · HeadDim must not exceed {int.MaxValue} (was {KeyElements}).",
                paramName);
    }
}
