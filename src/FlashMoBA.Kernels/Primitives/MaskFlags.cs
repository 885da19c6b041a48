namespace FlashMoBA.Kernels.Primitives;

/// <summary>Causal masking as a kernel specialisation: <c>default(TCausal).Enabled</c> is a JIT-time constant.</summary>
internal interface ICausalFlag
{
    /// <summary>True for bottom-right causal masking.</summary>
    bool Enabled { get; }
}

/// <summary>Bottom-right causal masking (DESIGN.md §3).</summary>
internal readonly struct Causal : ICausalFlag
{
    /// <inheritdoc/>
    public bool Enabled => true;
}

/// <summary>Every query sees every key of its sequence.</summary>
internal readonly struct NonCausal : ICausalFlag
{
    /// <inheritdoc/>
    public bool Enabled => false;
}
