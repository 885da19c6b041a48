using System.Runtime.CompilerServices;
using ILGPU.Algorithms;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// SiLU and its derivative in fp32 for the key convolution. The sigmoid goes through
/// <c>exp2</c> and a reciprocal, which map to single hardware instructions on the GPU; a large
/// negative input gives exp2 = +∞ and a sigmoid of exactly 0, so neither function returns NaN
/// for finite inputs.
/// </summary>
internal static class SiluMath
{
    private const float Log2E = 1.44269504088896341f;

    /// <summary>1 / (1 + e^−x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sigmoid(float x) => XMath.Rcp(1f + XMath.Exp2(-x * Log2E));

    /// <summary>x · sigmoid(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x * Sigmoid(x);

    /// <summary>d/dx [x · sigmoid(x)] = s · (1 + x · (1 − s)) with s = sigmoid(x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SiluDerivative(float x)
    {
        float s = Sigmoid(x);
        return s * (1f + x * (1f - s));
    }
}
