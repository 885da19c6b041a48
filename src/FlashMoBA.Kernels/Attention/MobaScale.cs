namespace FlashMoBA.Kernels.Attention;

/// <summary>Constants of the base-2 softmax: scores and LSE move to base 2 so that exp is one <c>ex2</c>.</summary>
internal static class MobaScale
{
    /// <summary>log2 e.</summary>
    public const float Log2E = 1.44269504088896f;

    /// <summary>ln 2 = 1 / log2 e.</summary>
    public const float Ln2 = 0.693147180559945f;
}
