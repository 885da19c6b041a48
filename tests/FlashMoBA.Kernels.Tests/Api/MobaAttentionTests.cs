using FlashMoBA.Kernels.Tests.Attention;
using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Kernels.Tests.Routing;
using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Api;

/// <summary>
/// The whole public pipeline — router, attention forward, backward, key convolution — against the
/// float64 reference. Keys have exactly representable block means (so the router's centroids equal the
/// reference's and the selected sets can be compared exactly) unless a key convolution reshapes them.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class MobaAttentionTests(AcceleratorFixture fixture)
{
    /// <summary>Router and attention on a varlen GQA batch, all heads at once (chunking off; the selection tests run chunked).</summary>
    [Fact]
    public void ForwardBackward_RoutedVarlenGqa_MatchesReference()
    {
        var testCase = new MobaCase([40, 21, 6], [40, 33, 3], 4, 2, 64, 16, 3, true, ElementType.Float16, 21, HeadChunk: 4);
        var keys = RoutingTestData.ExactMeanKeys(new Random(22), testCase.Shape, testCase.BlockSize);
        var inputs = MobaInputs.Create(testCase, keys);

        var run = MobaRunner.Run(fixture.Accelerator, testCase, inputs, selection: null, backward: true,
            storage: typeof(ILGPU.Half));

        int[] expected = BlockRouting.SelectBlocks(testCase.Shape, inputs.Q, inputs.K, testCase.BlockSize, testCase.TopK, causal: true);
        Assert.Equal(expected, run.TopkIndex);
        MobaCheck.MatchesReference(testCase, inputs, run, expected);
    }

    /// <summary>
    /// With topK ≥ the number of blocks every row attends to all its keys: MoBA is dense attention. Checked
    /// against the float64 dense reference and against the dense FlashAttention-2 kernel on the same
    /// inputs (two low-precision results: each within its tolerance of the reference, so within twice
    /// that of each other).
    /// </summary>
    [Fact]
    public void ForwardBackward_TopKCoversAllBlocks_EqualsDenseAttention()
    {
        var testCase = new MobaCase([45, 30], [45, 38], 2, 1, 64, 16, 4, false, ElementType.BFloat16, 31);
        var inputs = MobaInputs.Create(testCase);

        var run = MobaRunner.Run(fixture.Accelerator, testCase, inputs, selection: null, backward: true);
        var kernel = DenseRunner.Run(fixture.Accelerator,
            new DenseCase([45, 30], [45, 38], 2, 1, 64, false, ElementType.BFloat16, 31), inputs, backward: true);

        double u = MobaTolerances.UnitRoundoff(testCase.ElementType);
        double outputAbsolute = MobaTolerances.OutputRoundings * u * MobaAssert.MaxAbs(inputs.V);
        var dense = DenseReference.Forward(testCase.Shape, inputs.Q, inputs.K, inputs.V, causal: false);
        MobaAssert.Close(dense.Output, run.Output, MobaTolerances.OutputRoundings * u, outputAbsolute, "output vs dense reference");
        MobaAssert.Close(dense.Lse, run.Lse, 0, MobaTolerances.LseAbsolute, "lse vs dense reference");
        MobaAssert.Close(kernel.Output, run.Output, 2 * MobaTolerances.OutputRoundings * u, 2 * outputAbsolute, "output vs dense kernel");
        MobaAssert.Close(kernel.Lse, run.Lse, 0, 2 * MobaTolerances.LseAbsolute, "lse vs dense kernel");
        var gradients = DenseReference.Backward(testCase.Shape, inputs.Q, inputs.K, inputs.V, inputs.DOut, causal: false);
        MobaCheck.Gradient(gradients.DQ, run.DQ!, u, "dq vs dense reference");
        MobaCheck.Gradient(gradients.DK, run.DK!, u, "dk vs dense reference");
        MobaCheck.Gradient(gradients.DV, run.DV!, u, "dv vs dense reference");
        MobaCheck.Gradient(kernel.DQ!, run.DQ!, 2 * u, "dq vs dense kernel");
        MobaCheck.Gradient(kernel.DK!, run.DK!, 2 * u, "dk vs dense kernel");
        MobaCheck.Gradient(kernel.DV!, run.DV!, 2 * u, "dv vs dense kernel");
    }

    /// <summary>
    /// Key convolution W = 3 feeds routing and attention; dK flows back through it and dW comes out. The
    /// reference attends on its own k′ with the routing the library chose (k′ has no exact block means).
    /// </summary>
    [Fact]
    public void ForwardBackward_KeyConvolution_MatchesReference()
    {
        var testCase = new MobaCase([30, 17], [30, 17], 2, 1, 64, 16, 2, true, ElementType.Float16, 41, KeyConvWidth: 3);
        var inputs = MobaInputs.Create(testCase);
        var random = new Random(42);
        double[] weights = Enumerable.Range(0, 3 * 64).Select(_ => 0.5 * (random.NextDouble() - 0.5)).ToArray();
        weights = Array.ConvertAll(weights, w => (double)(float)w);

        var run = MobaRunner.Run(fixture.Accelerator, testCase, inputs, selection: null, backward: true,
            keyConvWeights: weights);

        var shape = testCase.Shape;
        double[] convolved = KeyConvReference.Forward(shape.CuSeqlensK, 1, 64, inputs.K, weights, 3);
        // The library rounds k′ to fp16 before routing and attention; so does the reference.
        convolved = Array.ConvertAll(convolved, x => MobaHost.RoundTo(testCase.ElementType, x));
        AssertCausalSelection(testCase, run.TopkIndex);
        MobaCheck.MatchesReference(testCase, inputs, run with { DK = null, DQ = null }, run.TopkIndex, convolved);

        double u = MobaTolerances.UnitRoundoff(testCase.ElementType);
        var attentionGrads = MobaReference.BackwardWithSelection(shape, inputs.Q, convolved, inputs.V, inputs.DOut,
            testCase.BlockSize, run.TopkIndex, testCase.TopK, true, testCase.Scale);
        var convGrads = KeyConvReference.Backward(shape.CuSeqlensK, 1, 64, inputs.K, weights, 3, attentionGrads.DK);
        MobaCheck.Gradient(attentionGrads.DQ, run.DQ!, u, "dq");
        MobaCheck.Gradient(attentionGrads.DV, run.DV!, u, "dv");
        MobaCheck.Gradient(convGrads.DK, run.DK!, u, "dk through the convolution");
        MobaCheck.Gradient(convGrads.DW, run.DW!, u, "dw");
    }

    /// <summary>Causal routing structure: own block in slot 0, distinct earlier blocks after it, −1 padding.</summary>
    private static void AssertCausalSelection(MobaCase testCase, int[] selection)
    {
        var shape = testCase.Shape;
        for (int b = 0; b < shape.Batch; b++)
        {
            int lenQ = shape.CuSeqlensQ[b + 1] - shape.CuSeqlensQ[b], lenK = shape.CuSeqlensK[b + 1] - shape.CuSeqlensK[b];
            for (int t = 0; t < lenQ; t++)
            {
                int own = (t + lenK - lenQ) / testCase.BlockSize;
                for (int h = 0; h < shape.Heads; h++)
                {
                    int first = ((shape.CuSeqlensQ[b] + t) * shape.Heads + h) * testCase.TopK;
                    Assert.Equal(own, selection[first]);
                    var blocks = selection.AsSpan(first, testCase.TopK).ToArray().Where(x => x >= 0).ToArray();
                    Assert.Equal(Math.Min(testCase.TopK, own + 1), blocks.Length);
                    Assert.Equal(blocks.Length, blocks.Distinct().Count());
                    Assert.All(blocks.Skip(1), block => Assert.InRange(block, 0, own - 1));
                }
            }
        }
    }
}
