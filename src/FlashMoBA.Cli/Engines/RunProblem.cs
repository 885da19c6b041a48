namespace FlashMoBA.Cli.Engines;

/// <summary>
/// A validated <c>run</c> problem: inputs already rounded to the storage type (as float), the batch,
/// configuration and sizes; optional dOut (backward) and key-convolution weights.
/// </summary>
/// <param name="Q">q <c>[TotalQ, H, d]</c>.</param>
/// <param name="K">k <c>[TotalK, Hk, d]</c>.</param>
/// <param name="V">v <c>[TotalK, Hk, d]</c>.</param>
/// <param name="DOut">Gradient of the output, shaped like q, or null for forward only.</param>
/// <param name="KeyConvWeights">Key-convolution weights <c>[W, Hk, d]</c> in fp32, or null.</param>
/// <param name="Batch">The varlen batch.</param>
/// <param name="Config">The configuration.</param>
/// <param name="Dims">The validated sizes.</param>
internal sealed record RunProblem(
    float[] Q, float[] K, float[] V, float[]? DOut, float[]? KeyConvWeights, VarlenBatch Batch, MobaConfig Config, AttentionDims Dims);

/// <summary>Results of <c>run</c>: output in the storage type's precision (as float), LSE, and gradients when dOut was given.</summary>
/// <param name="Output">Output <c>[TotalQ, H, d]</c>.</param>
/// <param name="Lse">Log-sum-exp <c>[H, TotalQ]</c> (natural log, +∞ for rows that attend to nothing).</param>
/// <param name="DQ">dq, or null.</param>
/// <param name="DK">dk (through the key convolution when enabled), or null.</param>
/// <param name="DV">dv, or null.</param>
/// <param name="DW">Key-convolution weight gradient <c>[W, Hk, d]</c>, or null.</param>
internal sealed record RunResult(float[] Output, float[] Lse, float[]? DQ, float[]? DK, float[]? DV, float[]? DW);
