using FlashMoBA.Cli.Bench;

namespace FlashMoBA.Cli.Tests.Bench;

public sealed class AttentionFlopsTests
{
    private static BenchShape Shape(int n, int block, int topK, bool causal) =>
        new(Batch: 2, Seqlen: n, Heads: 16, HeadsKv: 16, HeadDim: 128, BlockSize: block, TopK: topK, Causal: causal, ElementType.Float16, Seed: 1);

    [Fact]
    public void Dense_Causal_IsHalfOfFull()
    {
        double full = AttentionFlops.Dense(Shape(8192, 128, 8, false), BenchPass.Forward);
        Assert.Equal(4.0 * 2 * 16 * 128 * 8192.0 * 8192, full);
        Assert.Equal(full / 2, AttentionFlops.Dense(Shape(8192, 128, 8, true), BenchPass.Forward));
        Assert.Equal(full * 2.5, AttentionFlops.Dense(Shape(8192, 128, 8, false), BenchPass.ForwardBackward));
    }

    [Fact]
    public void MobaPairs_MatchBruteForceCount()
    {
        foreach (var (n, block, topK) in new[] { (100, 16, 3), (64, 16, 1), (130, 32, 8) })
        {
            var shape = Shape(n, block, topK, true);
            long brute = 0;
            for (int t = 0; t < n; t++)
            {
                int own = t / block;
                brute += t - own * block + 1;                    // own block up to t
                brute += (long)Math.Min(topK - 1, own) * block;  // earlier blocks are full
            }
            Assert.Equal(brute, AttentionFlops.MobaPairsPerSequence(shape));
        }
    }

    [Fact]
    public void Moba_WithEveryBlockSelected_EqualsExactCausalDense()
    {
        var shape = Shape(256, 16, 64, true);
        Assert.Equal(256.0 * 257 / 2, AttentionFlops.MobaPairsPerSequence(shape));
    }

    [Fact]
    public void Router_CausalScoresOnlyEarlierBlocks()
    {
        var shape = Shape(64, 16, 2, true) with { Batch = 1, Heads = 1, HeadDim = 1 };
        // 4 blocks of 16 rows: rows of block j score j earlier blocks.
        Assert.Equal(2.0 * (0 + 16 + 32 + 48), AttentionFlops.Router(shape));
    }
}
