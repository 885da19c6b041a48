namespace FlashMoBA;

/// <summary>
/// Parameters of a MoBA attention call (DESIGN.md §3): key-block size, how many blocks each query
/// row attends to, causal masking, softmax scale, storage type, optional key convolution and how many
/// query heads the attention passes process at once.
/// </summary>
/// <remarks>
/// Every setting is checked when it is set, so an instance is always valid on its own; rules that
/// involve tensor shapes (head dimension, totals) are checked by <see cref="AttentionShapes.Validate(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, VarlenBatch, MobaConfig)"/>.
/// </remarks>
public sealed record MobaConfig
{
    /// <summary>Smallest allowed <see cref="TopK"/>.</summary>
    public const int MinTopK = 1;

    /// <summary>Largest allowed <see cref="TopK"/>: the router keeps each row's top-k list on chip.</summary>
    public const int MaxTopK = 64;

    /// <summary>Smallest allowed <see cref="BlockSize"/>.</summary>
    public const int MinBlockSize = 16;

    /// <summary><see cref="BlockSize"/> must be a multiple of this: the m16n8k16 MMA tile edge.</summary>
    public const int BlockSizeMultiple = 16;

    /// <summary>Key-convolution widths the kernels implement.</summary>
    public static ReadOnlySpan<int> SupportedKeyConvWidths => [3, 5];

    /// <summary>Creates a configuration; the other settings keep their defaults (causal, scale 1/√d, fp16, no key conv).</summary>
    /// <param name="blockSize">Key-block size B: at least <see cref="MinBlockSize"/> and a multiple of <see cref="BlockSizeMultiple"/>.</param>
    /// <param name="topK">Blocks attended per query row, in <see cref="MinTopK"/>..<see cref="MaxTopK"/> (in causal mode the own block counts).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value breaks its rule; ParamName names the parameter.</exception>
    public MobaConfig(int blockSize, int topK)
    {
        CheckBlockSize(blockSize, nameof(blockSize));
        CheckTopK(topK, nameof(topK));
        _blockSize = blockSize;
        _topK = topK;
    }

    private readonly int _blockSize;
    private readonly int _topK;
    private readonly double? _softmaxScale;
    private readonly int? _keyConvWidth;
    private readonly int? _headChunk;
    private readonly ElementType _elementType = ElementType.Float16;

    /// <summary>Key-block size B (tokens per routing block); ≥ 16 and a multiple of 16.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that breaks the rule.</exception>
    public int BlockSize
    {
        get => _blockSize;
        init { CheckBlockSize(value, nameof(BlockSize)); _blockSize = value; }
    }

    /// <summary>Key blocks each query row attends to, 1..64; in causal mode the row's own block is one of them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set outside 1..64.</exception>
    public int TopK
    {
        get => _topK;
        init { CheckTopK(value, nameof(TopK)); _topK = value; }
    }

    /// <summary>Causal masking with bottom-right alignment (query row t sits at key position t + Nk − Nq). Default true.</summary>
    public bool Causal { get; init; } = true;

    /// <summary>Multiplier of q·k inside the softmax; null (the default) means 1/√d. Must be finite and positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to zero, a negative number, NaN or infinity.</exception>
    public double? SoftmaxScale
    {
        get => _softmaxScale;
        init
        {
            if (value is { } scale && !(double.IsFinite(scale) && scale > 0))
                throw new ArgumentOutOfRangeException(nameof(SoftmaxScale), value,
                    "SoftmaxScale must be finite and > 0, or null for 1/sqrt(headDim).");
            _softmaxScale = value;
        }
    }

    /// <summary>Storage type of q, k, v, outputs and gradients (fp16 by default); accumulation is fp32.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not a defined <see cref="FlashMoBA.ElementType"/>.</exception>
    public ElementType ElementType
    {
        get => _elementType;
        init
        {
            if (!Enum.IsDefined(value))
                throw new ArgumentOutOfRangeException(nameof(ElementType), value,
                    "ElementType must be Float16 or BFloat16.");
            _elementType = value;
        }
    }

    /// <summary>
    /// Width W of the optional causal depthwise key convolution applied to k before routing and
    /// attention (<c>k' = k + SiLU(conv_W(k))</c>); null (the default) disables it, otherwise 3 or 5.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a width other than 3 or 5.</exception>
    public int? KeyConvWidth
    {
        get => _keyConvWidth;
        init
        {
            if (value is { } width && !SupportedKeyConvWidths.Contains(width))
                throw new ArgumentOutOfRangeException(nameof(KeyConvWidth), value,
                    "KeyConvWidth must be 3 or 5, or null for no key convolution.");
            _keyConvWidth = value;
        }
    }

    /// <summary>
    /// Query heads whose attention passes run at once (head chunking): the forward's fp32 output
    /// accumulator (whose space also holds the per-slot statistics before it is zeroed) and the backward's
    /// fp32 dQ accumulator are sized for this many heads instead of all H, and the passes run chunk after
    /// chunk. null (the default) chooses
    /// automatically: the scratch stays within about 5% of the call's inputs and outputs unless that
    /// would leave a launch with fewer than about four waves of CTAs on the GPU even with the forward's
    /// query tiles of each key block split over several CTAs. Otherwise at least 1
    /// and a multiple of the GQA group size H/Hk (checked against the tensors by
    /// <see cref="AttentionShapes.Validate(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, VarlenBatch, MobaConfig)"/>);
    /// values of H or more run all heads at once. Results do not depend on it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to zero or a negative number.</exception>
    public int? HeadChunk
    {
        get => _headChunk;
        init
        {
            if (value is { } heads && heads < 1)
                throw new ArgumentOutOfRangeException(nameof(HeadChunk), value,
                    "HeadChunk must be >= 1 (query heads per chunk), or null for the automatic choice.");
            _headChunk = value;
        }
    }

    /// <summary>The softmax scale used for head dimension <paramref name="headDim"/>: <see cref="SoftmaxScale"/> or 1/√d.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="headDim"/> is not positive.</exception>
    public double ResolveSoftmaxScale(int headDim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        return _softmaxScale ?? 1.0 / Math.Sqrt(headDim);
    }

    private static void CheckBlockSize(int value, string paramName)
    {
        if (value < MinBlockSize || value % BlockSizeMultiple != 0)
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{paramName} must be >= {MinBlockSize} and a multiple of {BlockSizeMultiple}.");
    }

    private static void CheckTopK(int value, string paramName)
    {
        if (value < MinTopK || value > MaxTopK)
            throw new ArgumentOutOfRangeException(paramName, value,
                $"{paramName} must be in {MinTopK}..{MaxTopK}.");
    }
}
