namespace FlashMoBA.Reference.Tests.Infrastructure;

/// <summary>Central finite differences <c>(f(x + h e_i) − f(x − h e_i)) / 2h</c> of a scalar function.</summary>
internal static class FiniteDifference
{
    /// <summary>Step h: truncation error ~h²·f''' ≈ 1e-10 and rounding error ~1e-16·|f| / h ≈ 1e-11 for the
    /// O(1) inputs used here, both well below <see cref="Tolerance"/>.</summary>
    public const double Step = 1e-5;

    /// <summary>Agreement required between analytic and numeric gradients (relative to max(1, |g|)):
    /// 1000× the expected numeric error, yet far below any real gradient bug (a wrong term is O(0.01–1)).</summary>
    public const double Tolerance = 1e-7;

    /// <summary>Numeric gradient of <paramref name="loss"/> at <paramref name="x"/>; <paramref name="x"/> is
    /// perturbed in place and restored.</summary>
    public static double[] Gradient(Func<double> loss, double[] x)
    {
        var gradient = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double original = x[i];
            x[i] = original + Step;
            double plus = loss();
            x[i] = original - Step;
            double minus = loss();
            x[i] = original;
            gradient[i] = (plus - minus) / (2 * Step);
        }

        return gradient;
    }

    /// <summary><c>Σ_i weights_i · values_i</c>: the scalar loss whose gradient w.r.t. the output is <paramref name="weights"/>.</summary>
    public static double Project(double[] weights, double[] values)
    {
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += weights[i] * values[i];
        }

        return sum;
    }
}
