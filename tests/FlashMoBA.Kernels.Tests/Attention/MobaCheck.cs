using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>Compares a library run with the float64 reference on the same routing.</summary>
internal static class MobaCheck
{
    /// <summary>
    /// Output, LSE and (when the run has them) dq, dk, dv against <see cref="MobaReference"/> with the
    /// selection <paramref name="selection"/>; <paramref name="keys"/> overrides the keys the reference attends to.
    /// </summary>
    public static void MatchesReference(MobaCase testCase, MobaInputs inputs, MobaRun run, int[] selection,
        double[]? keys = null)
    {
        var shape = testCase.Shape;
        double[] k = keys ?? inputs.K;
        double u = MobaTolerances.UnitRoundoff(testCase.ElementType);
        var expected = MobaReference.ForwardWithSelection(shape, inputs.Q, k, inputs.V, testCase.BlockSize, selection,
            testCase.TopK, testCase.Causal, testCase.Scale);
        double outputAbsolute = MobaTolerances.OutputRoundings * u * MobaAssert.MaxAbs(inputs.V);
        MobaAssert.Close(expected.Output, run.Output, MobaTolerances.OutputRoundings * u, outputAbsolute, $"output ({testCase})");
        MobaAssert.Close(expected.Lse, run.Lse, 0, MobaTolerances.LseAbsolute, $"lse ({testCase})");
        if (run.DQ is null) return;

        var gradients = MobaReference.BackwardWithSelection(shape, inputs.Q, k, inputs.V, inputs.DOut, testCase.BlockSize,
            selection, testCase.TopK, testCase.Causal, testCase.Scale);
        Gradient(gradients.DQ, run.DQ, u, $"dq ({testCase})");
        Gradient(gradients.DK, run.DK!, u, $"dk ({testCase})");
        Gradient(gradients.DV, run.DV!, u, $"dv ({testCase})");
    }

    /// <summary>A gradient within <see cref="MobaTolerances.GradientRoundings"/>·u of the reference's scale.</summary>
    public static void Gradient(double[] expected, double[] actual, double u, string what) =>
        MobaAssert.Close(expected, actual, 0, MobaTolerances.GradientRoundings * u * MobaAssert.MaxAbs(expected), what);
}
