namespace FlashMoBA.Cli.Bench;

/// <summary>The <c>--mode</c> of <c>bench</c>: which target is timed and what it is compared with.</summary>
internal enum BenchMode
{
    /// <summary>MoBA forward (router + attention) vs dense forward.</summary>
    Fwd,

    /// <summary>MoBA forward + backward vs dense forward + backward.</summary>
    FwdBwd,

    /// <summary>The router alone (centroids, gating + top-k, reindex); no baseline.</summary>
    Router,

    /// <summary>Dense FlashAttention-2 forward alone; no baseline.</summary>
    Dense,

    /// <summary>Key convolution forward on the keys (W = 5); no baseline.</summary>
    KeyConv,

    /// <summary>Key convolution forward + backward (dK, dW); no baseline.</summary>
    KeyConvFwdBwd,

    /// <summary>Dense FlashAttention-2 forward + backward alone; no baseline.</summary>
    DenseFwdBwd,
}

/// <summary>What each mode times.</summary>
internal static class BenchModes
{
    /// <summary>The timed target's name, its pass, and the baseline target's name (or null).</summary>
    public static (string Subject, BenchPass Pass, string? Baseline) Plan(this BenchMode mode) => mode switch
    {
        BenchMode.Fwd => (BenchTargetNames.Moba, BenchPass.Forward, BenchTargetNames.Dense),
        BenchMode.FwdBwd => (BenchTargetNames.Moba, BenchPass.ForwardBackward, BenchTargetNames.Dense),
        BenchMode.Router => (BenchTargetNames.Router, BenchPass.Forward, null),
        BenchMode.KeyConv => (BenchTargetNames.KeyConv, BenchPass.Forward, null),
        BenchMode.KeyConvFwdBwd => (BenchTargetNames.KeyConv, BenchPass.ForwardBackward, null),
        BenchMode.DenseFwdBwd => (BenchTargetNames.Dense, BenchPass.ForwardBackward, null),
        _ => (BenchTargetNames.Dense, BenchPass.Forward, null),
    };
}

/// <summary>Names the modes refer to; a target's <see cref="IBenchTarget.Name"/> must be one of these to be used by a mode.</summary>
internal static class BenchTargetNames
{
    /// <summary>MoBA attention through the public API (router + attention).</summary>
    public const string Moba = "moba";

    /// <summary>Dense FlashAttention-2.</summary>
    public const string Dense = "dense";

    /// <summary>The MoBA router.</summary>
    public const string Router = "router";

    /// <summary>The key convolution.</summary>
    public const string KeyConv = "keyconv";
}
