namespace FlashMoBA.Cli.Bench;

/// <summary>What one timed iteration of a target covers.</summary>
internal enum BenchPass
{
    /// <summary>Forward only (for MoBA: router + attention).</summary>
    Forward,

    /// <summary>Forward followed by backward.</summary>
    ForwardBackward,
}
