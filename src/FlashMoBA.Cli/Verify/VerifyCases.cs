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
        int n = sizes.Seqlen;
        int[] ragged = Enumerable.Range(0, sizes.Batch).Select(b => Math.Max(1, n - 3 * b)).ToArray();
        int[] varlenQ = [n, n / 2 + 5, Math.Max(2, n / 4)];
        int[] varlenK = [n + sizes.BlockSize / 2, n / 2 + 5, Math.Max(1, n / 8)];
        (string Name, int[] Q, int[] K, int Heads, int HeadsKv, bool Causal)[] kinds =
        [
            ("ragged", ragged, ragged, sizes.Heads, sizes.HeadsKv, true),
            ("varlen", varlenQ, varlenK, sizes.Heads, sizes.HeadsKv, true),
            ("gqa", [n], [n], 4, 2, false),
            ("mqa", [n - 1], [n - 1], 4, 1, true),
        ];
        for (int dim = 0; dim < sizes.HeadDims.Count; dim++)
        {
            for (int kind = 0; kind < kinds.Length; kind++)
            {
                var (name, q, k, heads, headsKv, causal) = kinds[kind];
                foreach (var dtype in sizes.DtypesFor(kind + dim))
                    yield return new VerifyCase(name, q, k, heads, headsKv, sizes.HeadDims[dim], sizes.BlockSize, sizes.TopK, causal, dtype, seed++);
            }
        }
    }
}
