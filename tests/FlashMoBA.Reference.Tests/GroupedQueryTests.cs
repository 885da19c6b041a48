using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>GQA/MQA (Hk &lt; H) must equal MHA with each KV head repeated over its group of query heads,
/// and its dK/dV must be the group sums of the MHA gradients.</summary>
public sealed class GroupedQueryTests
{
    private const double Tolerance = 1e-13;    // group sums added in a different order: rounding only

    [Theory]
    [InlineData(4, 2, true)]
    [InlineData(4, 2, false)]
    [InlineData(4, 1, true)]
    [InlineData(3, 1, false)]
    public void Moba_GroupedHeads_EqualRepeatedHeads(int heads, int headsKv, bool causal)
    {
        const int blockSize = 2, topK = 3;
        AttentionShape grouped = TestShapes.Varlen(heads, headsKv, 3);
        AttentionShape repeated = grouped with { HeadsKv = heads };
        (double[] q, double[] k, double[] v, double[] dOut) = RandomTensors.Attention(grouped, seed: heads * 10 + headsKv);
        double[] kRepeated = TestShapes.RepeatKvHeads(grouped, k), vRepeated = TestShapes.RepeatKvHeads(grouped, v);

        int[] groupedSelection = BlockRouting.SelectBlocks(grouped, q, k, blockSize, topK, causal);
        int[] repeatedSelection = BlockRouting.SelectBlocks(repeated, q, kRepeated, blockSize, topK, causal);
        AttentionOutput groupedOut = MobaReference.Forward(grouped, q, k, v, blockSize, topK, causal);
        AttentionOutput repeatedOut = MobaReference.Forward(repeated, q, kRepeated, vRepeated, blockSize, topK, causal);
        AttentionGradients groupedGrad = MobaReference.Backward(grouped, q, k, v, dOut, blockSize, topK, causal);
        AttentionGradients repeatedGrad =
            MobaReference.Backward(repeated, q, kRepeated, vRepeated, dOut, blockSize, topK, causal);

        Assert.Equal(repeatedSelection, groupedSelection);
        AssertEquivalent(grouped, repeatedOut, groupedOut, repeatedGrad, groupedGrad);
    }

    [Theory]
    [InlineData(4, 2, true)]
    [InlineData(4, 1, false)]
    public void Dense_GroupedHeads_EqualRepeatedHeads(int heads, int headsKv, bool causal)
    {
        AttentionShape grouped = TestShapes.VarlenWithEmptySequences(heads, headsKv, 3);
        AttentionShape repeated = grouped with { HeadsKv = heads };
        (double[] q, double[] k, double[] v, double[] dOut) = RandomTensors.Attention(grouped, seed: 77);
        double[] kRepeated = TestShapes.RepeatKvHeads(grouped, k), vRepeated = TestShapes.RepeatKvHeads(grouped, v);

        AttentionOutput groupedOut = DenseReference.Forward(grouped, q, k, v, causal);
        AttentionOutput repeatedOut = DenseReference.Forward(repeated, q, kRepeated, vRepeated, causal);
        AttentionGradients groupedGrad = DenseReference.Backward(grouped, q, k, v, dOut, causal);
        AttentionGradients repeatedGrad = DenseReference.Backward(repeated, q, kRepeated, vRepeated, dOut, causal);

        AssertEquivalent(grouped, repeatedOut, groupedOut, repeatedGrad, groupedGrad);
    }

    private static void AssertEquivalent(AttentionShape grouped, AttentionOutput repeatedOut, AttentionOutput groupedOut,
        AttentionGradients repeatedGrad, AttentionGradients groupedGrad)
    {
        AssertNumeric.AllClose(repeatedOut.Output, groupedOut.Output, Tolerance, "output");
        AssertNumeric.AllClose(repeatedOut.Lse, groupedOut.Lse, Tolerance, "LSE");
        AssertNumeric.AllClose(repeatedGrad.DQ, groupedGrad.DQ, Tolerance, "dQ");
        AssertNumeric.AllClose(TestShapes.SumOverGroups(grouped, repeatedGrad.DK), groupedGrad.DK, Tolerance, "dK");
        AssertNumeric.AllClose(TestShapes.SumOverGroups(grouped, repeatedGrad.DV), groupedGrad.DV, Tolerance, "dV");
    }
}
