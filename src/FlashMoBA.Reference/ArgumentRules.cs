namespace FlashMoBA.Reference;

/// <summary>
/// Argument checks shared by every reference entry point. Each failure is an
/// <see cref="ArgumentException"/> whose <see cref="ArgumentException.ParamName"/> is the offending
/// parameter and whose message states the rule that was broken.
/// </summary>
internal static class ArgumentRules
{
    /// <summary>Checks a varlen shape: both cuSeqlens start at 0, never decrease and describe the same
    /// number of sequences (at least one); heads, KV heads and head dim are positive; H % Hk == 0.</summary>
    public static void RequireValidShape(AttentionShape? shape, string paramName)
    {
        ArgumentNullException.ThrowIfNull(shape, paramName);
        RequireCuSeqlens(shape.CuSeqlensQ, paramName, "CuSeqlensQ");
        RequireCuSeqlens(shape.CuSeqlensK, paramName, "CuSeqlensK");
        if (shape.CuSeqlensQ.Length != shape.CuSeqlensK.Length)
        {
            throw new ArgumentException(
                $"CuSeqlensQ ({shape.CuSeqlensQ.Length} entries) and CuSeqlensK ({shape.CuSeqlensK.Length} entries) "
                + "must describe the same number of sequences.", paramName);
        }

        RequirePositive(shape.Heads, paramName, "Heads");
        RequirePositive(shape.HeadsKv, paramName, "HeadsKv");
        RequirePositive(shape.HeadDim, paramName, "HeadDim");
        if (shape.Heads % shape.HeadsKv != 0)
        {
            throw new ArgumentException(
                $"Heads ({shape.Heads}) must be a multiple of HeadsKv ({shape.HeadsKv}).", paramName);
        }
    }

    /// <summary>Checks prefix sums of sequence lengths: at least two entries, first 0, non-decreasing.</summary>
    public static void RequireCuSeqlens(int[]? cuSeqlens, string paramName, string? member = null)
    {
        string what = member ?? paramName;
        if (cuSeqlens is null)
        {
            throw new ArgumentException($"{what} must not be null.", paramName);
        }

        if (cuSeqlens.Length < 2)
        {
            throw new ArgumentException(
                $"{what} must have batch + 1 >= 2 entries (at least one sequence); it has {cuSeqlens.Length}.",
                paramName);
        }

        if (cuSeqlens[0] != 0)
        {
            throw new ArgumentException($"{what} must start at 0; it starts at {cuSeqlens[0]}.", paramName);
        }

        for (int i = 1; i < cuSeqlens.Length; i++)
        {
            if (cuSeqlens[i] < cuSeqlens[i - 1])
            {
                throw new ArgumentException(
                    $"{what} must be non-decreasing (prefix sums of lengths); entry {i} ({cuSeqlens[i]}) "
                    + $"is below entry {i - 1} ({cuSeqlens[i - 1]}).", paramName);
            }
        }
    }

    /// <summary>Checks that an array is present and has exactly <paramref name="expected"/> elements.</summary>
    public static void RequireLength<T>(T[]? array, long expected, string paramName, string layout)
    {
        ArgumentNullException.ThrowIfNull(array, paramName);
        if (array.LongLength != expected)
        {
            throw new ArgumentException(
                $"{paramName} must have {expected} elements ({layout}); it has {array.LongLength}.", paramName);
        }
    }

    /// <summary>Checks that an integer is at least 1.</summary>
    public static void RequirePositive(int value, string paramName, string? member = null)
    {
        if (value < 1)
        {
            throw new ArgumentException($"{member ?? paramName} must be at least 1; it is {value}.", paramName);
        }
    }

    /// <summary>Checks an explicit softmax scale: finite and positive.</summary>
    public static void RequireScale(double softmaxScale, string paramName)
    {
        if (!double.IsFinite(softmaxScale) || softmaxScale <= 0)
        {
            throw new ArgumentException(
                $"{paramName} must be finite and positive; it is {softmaxScale}.", paramName);
        }
    }

    /// <summary>Returns the given scale after checking it, or 1/√d when none is given.</summary>
    public static double ResolveScale(double? softmaxScale, int headDim, string paramName)
    {
        if (softmaxScale is not double scale)
        {
            return 1.0 / Math.Sqrt(headDim);
        }

        RequireScale(scale, paramName);
        return scale;
    }
}
