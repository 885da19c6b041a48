namespace FlashMoBA.Cli.Verify;

/// <summary>
/// The standard case set every attention-shaped family draws from, per head dim and dtype: a ragged
/// batch (lengths not multiples of the block), a three-sequence varlen batch with Nq ≠ Nk (one
/// sequence with more queries than keys, so some rows attend to nothing), GQA (H=4, Hk=2,
/// non-causal) and MQA (H=4, Hk=1).
/// </summary>
internal static class VerifyCases
{
    /// <summary>Builds the standard cases for the sizes.</summary>
    public static IEnumerable<VerifyCase> Standard(VerifySizes sizes)
    {
        int seed = sizes.Seed;
        foreach (int headDim in sizes.HeadDims)
        {
            foreach (var dtype in sizes.ElementTypes)
            {
                int n = sizes.Seqlen;
                int[] ragged = Enumerable.Range(0, sizes.Batch).Select(b => Math.Max(1, n - 3 * b)).ToArray();
                yield return Case("ragged", ragged, ragged, sizes.Heads, sizes.HeadsKv, causal: true);

                int[] varlenQ = [n, n / 2 + 5, Math.Max(2, n / 4)];
                int[] varlenK = [n + sizes.BlockSize / 2, n / 2 + 5, Math.Max(1, n / 8)];
                yield return Case("varlen", varlenQ, varlenK, sizes.Heads, sizes.HeadsKv, causal: true);

                yield return Case("gqa", [n], [n], 4, 2, causal: false);
                yield return Case("mqa", [n - 1], [n - 1], 4, 1, causal: true);

                VerifyCase Case(string name, int[] lengthsQ, int[] lengthsK, int heads, int headsKv, bool causal) =>
                    new(name, lengthsQ, lengthsK, heads, headsKv, headDim, sizes.BlockSize, sizes.TopK, causal, dtype, seed++);
            }
        }
    }
}
