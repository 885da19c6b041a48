namespace FlashMoBA;

/// <summary>Device time of one stage (one or a few kernel launches) of a MoBA forward or backward.</summary>
/// <param name="Stage">The stage, e.g. "router.topk", "forward.output", "backward.main".</param>
/// <param name="Milliseconds">Time between the end of the previous stage and the end of this one, in ms.</param>
public readonly record struct MobaAttentionStageTime(string Stage, double Milliseconds);
