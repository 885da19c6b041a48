namespace FlashMoBA.Cli.Verify;

/// <summary>Problem sizes for <c>verify</c>: the device defaults overridden by command-line flags.</summary>
/// <param name="Batch">Sequences in the base case.</param>
/// <param name="Seqlen">Tokens per sequence in the base case (chosen not to be a multiple of the block size).</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="HeadsKv">KV heads Hk.</param>
/// <param name="HeadDims">Head dimensions to cover.</param>
/// <param name="BlockSize">MoBA block size B.</param>
/// <param name="TopK">MoBA top-k.</param>
/// <param name="ElementTypes">Storage types to cover.</param>
/// <param name="Seed">Base seed; each case derives its own.</param>
/// <param name="EveryDtypePerCase">Run every case kind in every dtype; when false the dtypes alternate over
/// the case kinds (each dtype still covered), halving the CPU run time.</param>
internal sealed record VerifySizes(
    int Batch, int Seqlen, int Heads, int HeadsKv, IReadOnlyList<int> HeadDims, int BlockSize, int TopK,
    IReadOnlyList<ElementType> ElementTypes, int Seed, bool EveryDtypePerCase)
{
    /// <summary>Defaults that finish in seconds on the CPU accelerator.</summary>
    public static VerifySizes CpuDefaults { get; } = new(
        Batch: 1, Seqlen: 72, Heads: 2, HeadsKv: 1, HeadDims: [64], BlockSize: 16, TopK: 3,
        ElementTypes: [ElementType.Float16, ElementType.BFloat16], Seed: 1234, EveryDtypePerCase: false);

    /// <summary>
    /// Defaults for a GPU: longer sequences (several blocks of 64, ragged tails), both head dims. The float64
    /// reference runs single-threaded on the host and costs ~1–2 s per dense or MoBA case at this size
    /// (~4× more at 1000 tokens), so dtypes alternate over the case kinds here too.
    /// </summary>
    public static VerifySizes CudaDefaults { get; } = new(
        Batch: 2, Seqlen: 500, Heads: 4, HeadsKv: 2, HeadDims: [64, 128], BlockSize: 64, TopK: 4,
        ElementTypes: [ElementType.Float16, ElementType.BFloat16], Seed: 1234, EveryDtypePerCase: false);

    /// <summary>The dtypes case kind number <paramref name="kind"/> runs in.</summary>
    public IEnumerable<ElementType> DtypesFor(int kind) =>
        EveryDtypePerCase || ElementTypes.Count == 1 ? ElementTypes : [ElementTypes[kind % ElementTypes.Count]];
}
