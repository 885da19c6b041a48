namespace FlashMoBA.Reference.Tests.Infrastructure;

/// <summary>Textbook softmax attention of one query over an explicit list of key/value vectors, written
/// independently of the library so that hand-worked tests derive their expectations from the formula.</summary>
internal static class FirstPrinciples
{
    /// <summary><c>lse = ln Σ_j exp(scale q·k_j)</c>, <c>o = Σ_j exp(scale q·k_j − lse) v_j</c>.</summary>
    public static (double[] Output, double Lse) Attend(double[] query, double[][] keys, double[][] values,
        double scale)
    {
        var logits = keys.Select(key => scale * query.Zip(key, (a, b) => a * b).Sum()).ToArray();
        double lse = Math.Log(logits.Sum(Math.Exp));
        var output = new double[values[0].Length];
        for (int j = 0; j < keys.Length; j++)
        {
            double probability = Math.Exp(logits[j] - lse);
            for (int c = 0; c < output.Length; c++)
            {
                output[c] += probability * values[j][c];
            }
        }

        return (output, lse);
    }

    /// <summary>Row <paramref name="row"/> of a flat <c>[rows, width]</c> array.</summary>
    public static double[] Row(double[] flat, int row, int width) => flat.AsSpan(row * width, width).ToArray();
}
