using System.Globalization;
using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Reference;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.KeyConvBench;

/// <summary>
/// Checks the kernels on the device against <see cref="KeyConvReference"/>: whole varlen problems
/// (sequences shorter than W, length 1, ragged lengths, GQA-shaped Hk, d = 64 and 128) and, at the
/// benchmark size, slices at the start and end of each sequence (the causal convolution makes a
/// slice's rows depend only on rows inside it, W−1 rows in).
/// </summary>
internal static class GpuVerify
{
    /// <summary>k′ and dK: one rounding to the storage type (unit roundoff u), allowed 2u relative.</summary>
    private const double RoundingsAllowed = 2;

    /// <summary>fp32 work before that rounding: ≤ 5 products and a SiLU of O(1)–O(10) values.</summary>
    private const double Fp32MathFloor = 1e-5;

    /// <summary>dW is an fp32 sum over every token; allowed 5e−6 per token (the CLI's verify rule).</summary>
    private const double DwAbsolutePerToken = 5e-6;

    /// <summary>Rows per sequence-edge slice at the benchmark size (the CPU smoke size has 1200 per sequence).</summary>
    private const int SliceRows = 512;

    public static bool Run(Accelerator accelerator, bool small)
    {
        Console.WriteLine();
        Console.WriteLine("| case | tensor | max abs error | worst error / tolerance | result |");
        Console.WriteLine("|---|---|---|---|---|");
        bool ok = true;
        int[] long1 = small ? [1, 2, 150, 3, 25] : [1, 2, 1500, 3, 2503];
        int[] long2 = small ? [70, 1, 4, 33] : [700, 1, 4, 333];
        foreach (int width in new[] { 3, 5 })
        {
            ok &= Whole<Half>(accelerator, long1, headsKv: small ? 2 : 16, headDim: 128, width);
            ok &= Whole<BFloat16>(accelerator, long1, headsKv: small ? 2 : 16, headDim: 128, width);
            ok &= Whole<Half>(accelerator, long2, headsKv: 2, headDim: 64, width);
            ok &= Whole<BFloat16>(accelerator, long2, headsKv: 2, headDim: 64, width);
        }
        return ok;
    }

    private static bool Whole<T>(Accelerator accelerator, int[] lengths, int headsKv, int headDim, int width)
        where T : unmanaged
    {
        var cuSeqlensK = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++) cuSeqlensK[b + 1] = cuSeqlensK[b] + lengths[b];
        using var problem = new KeyConvProblem<T>(accelerator, cuSeqlensK, headsKv, headDim, width, seed: 7 * width);
        var elementType = problem.ElementType;
        problem.Forward(KeyConvForward.DefaultRunLength);
        problem.Backward(null);
        accelerator.Synchronize();

        double[] k = StoredRandom.Widen(problem.K.Bits, elementType);
        double[] dKPrime = StoredRandom.Widen(problem.DKPrime.Bits, elementType);
        double[] weights = Array.ConvertAll(problem.Weights, w => (double)w);
        double[] expectedK = KeyConvReference.Forward(cuSeqlensK, headsKv, headDim, k, weights, width);
        var expected = KeyConvReference.Backward(cuSeqlensK, headsKv, headDim, k, weights, width, dKPrime);
        string label = $"n={string.Join(',', lengths)} Hk{headsKv} d{headDim} W{width} {Name(elementType)}";
        double u = RoundingsAllowed * UnitRoundoff(elementType);
        bool ok = Compare(label, "k′", expectedK, StoredRandom.Widen(problem.DownloadKOut(), elementType), u, Fp32MathFloor);
        ok &= Compare(label, "dK", expected.DK, StoredRandom.Widen(problem.DownloadDK(), elementType), u, Fp32MathFloor);
        ok &= Compare(label, "dW", expected.DW, Array.ConvertAll(problem.DownloadDW(), w => (double)w), 0,
            DwAbsolutePerToken * cuSeqlensK[^1]);
        return ok;
    }

    /// <summary>Compares sequence-edge slices of the last forward or backward run of <paramref name="problem"/>.</summary>
    public static bool CheckBenchSlices<T>(KeyConvProblem<T> problem, bool forward)
        where T : unmanaged
    {
        var shape = problem.Shape;
        int lag = shape.Width - 1;
        // Forward rows need W−1 rows before them; backward rows also W−1 rows after them.
        int margin = forward ? lag : 2 * lag;
        double[] weights = Array.ConvertAll(problem.Weights, w => (double)w);
        double u = RoundingsAllowed * UnitRoundoff(problem.ElementType);
        var got = forward ? problem.DownloadKOut() : problem.DownloadDK();
        bool ok = true;
        for (int b = 0; b < shape.Batch; b++)
        {
            int seqStart = problem.CuSeqlensK[b], seqEnd = problem.CuSeqlensK[b + 1];
            // [start of sequence, +SliceRows) is exact; for the end, start the slice margin rows early.
            foreach (var (sliceStart, checkFrom, checkTo) in new[]
            {
                (seqStart, seqStart, seqStart + SliceRows - (forward ? 0 : lag)),
                (seqEnd - SliceRows - margin, seqEnd - SliceRows, seqEnd),
            })
            {
                int rows = (forward ? checkTo : Math.Min(seqEnd, checkTo + lag)) - sliceStart;
                int[] cu = [0, rows];
                double[] k = problem.K.Rows(sliceStart, rows, shape.Channels);
                double[] expected = forward
                    ? KeyConvReference.Forward(cu, shape.HeadsKv, shape.HeadDim, k, weights, shape.Width)
                    : KeyConvReference.Backward(cu, shape.HeadsKv, shape.HeadDim, k, weights, shape.Width,
                        problem.DKPrime.Rows(sliceStart, rows, shape.Channels)).DK;
                int skip = (checkFrom - sliceStart) * shape.Channels;
                int count = (checkTo - checkFrom) * shape.Channels;
                var actual = StoredRandom.Widen(got.AsSpan(checkFrom * shape.Channels, count), problem.ElementType);
                ok &= Compare($"bench slice seq {b} rows {checkFrom}..{checkTo} W{shape.Width} {Name(problem.ElementType)}",
                    forward ? "k′" : "dK", expected.AsSpan(skip, count).ToArray(), actual, u, Fp32MathFloor);
            }
        }
        return ok;
    }

    private static bool Compare(string label, string tensor, double[] expected, double[] actual, double relative,
        double absolute)
    {
        double worstRatio = 0, maxError = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            double ratio = double.IsNaN(error) ? double.PositiveInfinity : error / (relative * Math.Abs(expected[i]) + absolute);
            maxError = double.IsNaN(error) ? double.NaN : Math.Max(maxError, error);
            worstRatio = Math.Max(worstRatio, ratio);
        }
        bool ok = worstRatio <= 1 && expected.Length == actual.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {tensor} | {maxError:E2} | {worstRatio:F3} | {(ok ? "PASS" : "FAIL")} |"));
        return ok;
    }

    private static double UnitRoundoff(ElementType elementType) =>
        elementType == ElementType.Float16 ? Math.Pow(2, -11) : Math.Pow(2, -8);

    private static string Name(ElementType elementType) => elementType == ElementType.Float16 ? "fp16" : "bf16";
}
