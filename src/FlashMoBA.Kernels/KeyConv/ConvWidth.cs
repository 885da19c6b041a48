namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// The convolution width W as a type, so each kernel is compiled for one width: the taps beyond
/// W and the registers that would hold them fold away.
/// </summary>
internal interface IConvWidth
{
    /// <summary>Number of taps W.</summary>
    int Taps { get; }
}

/// <summary>W = 3 (kconv3).</summary>
internal readonly struct ConvWidth3 : IConvWidth
{
    /// <inheritdoc/>
    public int Taps => 3;
}

/// <summary>W = 5 (kconv5).</summary>
internal readonly struct ConvWidth5 : IConvWidth
{
    /// <inheritdoc/>
    public int Taps => 5;
}
