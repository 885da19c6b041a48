namespace FlashMoBA.Cli.Bench;

/// <summary>A finished sweep: its settings and rows; serialised as the <c>--json</c> file.</summary>
/// <param name="Date">UTC time the sweep started (ISO 8601).</param>
/// <param name="Command">The command line that produced it.</param>
/// <param name="Device">Device label.</param>
/// <param name="Mode">fwd, fwdbwd, router or dense.</param>
/// <param name="SubjectName">Target timed ("moba", "router", "dense") and its pass.</param>
/// <param name="BaselineName">Baseline target and pass, or null.</param>
/// <param name="Batch">Sequences b.</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="HeadsKv">KV heads Hk.</param>
/// <param name="HeadDim">Head dim d.</param>
/// <param name="DType">fp16 or bf16.</param>
/// <param name="Causal">Causal masking.</param>
/// <param name="BlockSize">MoBA block size B.</param>
/// <param name="TopK">MoBA top-k.</param>
/// <param name="Warmup">Untimed iterations before timing.</param>
/// <param name="Repeats">Timed iterations per point.</param>
/// <param name="Rows">One row per sequence length.</param>
internal sealed record BenchReport(
    string Date, string Command, string Device, string Mode, string SubjectName, string? BaselineName,
    int Batch, int Heads, int HeadsKv, int HeadDim, string DType, bool Causal, int BlockSize, int TopK,
    int Warmup, int Repeats, IReadOnlyList<BenchRow> Rows);
