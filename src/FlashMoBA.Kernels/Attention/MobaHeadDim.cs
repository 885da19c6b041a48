namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The head dimension as a kernel specialisation: a MoBA kernel generic over
/// <c>THeadDim : struct, IMobaHeadDim</c> sees <see cref="Value"/> as a constant, so its loops over
/// d have a fixed trip count and the branches for the second 64-column half of a d = 128 row fold away.
/// </summary>
internal interface IMobaHeadDim
{
    /// <summary>Head dimension d.</summary>
    int Value { get; }
}

/// <summary>d = 64: one 64-column register tile per 16-row slab.</summary>
internal readonly struct MobaHeadDim64 : IMobaHeadDim
{
    /// <inheritdoc/>
    public int Value => 64;
}

/// <summary>d = 128: two 64-column register tiles per 16-row slab.</summary>
internal readonly struct MobaHeadDim128 : IMobaHeadDim
{
    /// <inheritdoc/>
    public int Value => 128;
}
