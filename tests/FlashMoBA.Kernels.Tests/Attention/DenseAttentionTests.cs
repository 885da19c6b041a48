using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// Dense FlashAttention-2 (forward and backward) on the CPU accelerator against the float64
/// <see cref="DenseReference"/>: ragged lengths (not multiples of the 64-row tiles), three-sequence varlen
/// batches with different query and key lengths (including Nq &gt; Nk, whose first rows see no key under
/// bottom-right causal masking), GQA and MQA, fp16 and bf16, d = 64 and 128. Tolerances:
/// <see cref="MobaTolerances"/> (the same roundings: P and dS to 16 bits, one final rounding).
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class DenseAttentionTests(AcceleratorFixture fixture)
{
    public static TheoryData<int[], int[], int, int, int, bool, ElementType> Cases() => new()
    {
        // Single ragged sequence (70 = 64 + 6), causal, MQA.
        { [70], [70], 2, 1, 64, true, ElementType.Float16 },
        // Varlen, Nq > Nk in the first sequence (rows with p < 0), GQA H=4/Hk=2.
        { [20, 67, 5], [12, 70, 9], 4, 2, 64, true, ElementType.BFloat16 },
        // Varlen non-causal, d=128.
        { [17, 40, 3], [30, 9, 20], 2, 2, 128, false, ElementType.Float16 },
        // Ragged causal with Nk > Nq, MQA, d=128, bf16.
        { [66], [70], 2, 1, 128, true, ElementType.BFloat16 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_RaggedVarlenGqa_MatchReference(int[] lengthsQ, int[] lengthsK, int heads,
        int headsKv, int headDim, bool causal, ElementType elementType)
    {
        var testCase = new DenseCase(lengthsQ, lengthsK, heads, headsKv, headDim, causal, elementType, Seed: 17);
        var inputs = DenseRunner.Inputs(testCase);
        var expected = DenseReference.Forward(testCase.Shape, inputs.Q, inputs.K, inputs.V, causal);
        var gradients = DenseReference.Backward(testCase.Shape, inputs.Q, inputs.K, inputs.V, inputs.DOut, causal);

        var run = DenseRunner.Run(fixture.Accelerator, testCase, inputs, backward: true);

        double u = MobaTolerances.UnitRoundoff(elementType);
        double maxValue = MobaAssert.MaxAbs(inputs.V);
        MobaAssert.Close(expected.Output, run.Output, MobaTolerances.OutputRoundings * u,
            MobaTolerances.OutputRoundings * u * maxValue, $"output ({testCase})");
        MobaAssert.Close(expected.Lse, run.Lse, 0, MobaTolerances.LseAbsolute, $"lse ({testCase})");
        CloseGradient(gradients.DQ, run.DQ!, u, $"dq ({testCase})");
        CloseGradient(gradients.DK, run.DK!, u, $"dk ({testCase})");
        CloseGradient(gradients.DV, run.DV!, u, $"dv ({testCase})");
    }

    [Fact]
    public void Forward_CausalRowsBeforeFirstKey_OutputZeroAndLseInfinity()
    {
        // Nq = 70 > Nk = 6: local rows 0..63 have p = t − 64 < 0 and see nothing, including one whole tile.
        var testCase = new DenseCase([70], [6], 2, 1, 64, true, ElementType.Float16, Seed: 5);
        var inputs = DenseRunner.Inputs(testCase);

        var run = DenseRunner.Run(fixture.Accelerator, testCase, inputs, backward: false);

        for (int head = 0; head < 2; head++)
        {
            for (int row = 0; row < 64; row++)
                Assert.Equal(double.PositiveInfinity, run.Lse[head * 70 + row]);
            Assert.True(double.IsFinite(run.Lse[head * 70 + 64]));
        }
        for (int i = 0; i < 64 * 2 * 64; i++)
            Assert.Equal(0.0, run.Output[i]);
        var expected = DenseReference.Forward(testCase.Shape, inputs.Q, inputs.K, inputs.V, causal: true);
        double u = MobaTolerances.UnitRoundoff(ElementType.Float16);
        MobaAssert.Close(expected.Output, run.Output, 2 * u, 2 * u * MobaAssert.MaxAbs(inputs.V), "output");
    }

    /// <summary>A gradient within <see cref="MobaTolerances.GradientRoundings"/> unit roundoffs of its largest reference element.</summary>
    internal static void CloseGradient(double[] expected, double[] actual, double u, string what) =>
        MobaAssert.Close(expected, actual, 0, MobaTolerances.GradientRoundings * u * MobaAssert.MaxAbs(expected), what);
}
