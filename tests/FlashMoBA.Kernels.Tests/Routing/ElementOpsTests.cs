using FlashMoBA.Kernels.Routing;

namespace FlashMoBA.Kernels.Tests.Routing;

public sealed class ElementOpsTests
{
    [Fact]
    public void HalfOpsFromFloat_MatchesSystemHalfRounding()
    {
        var random = new Random(7);
        var samples = new List<float>
        {
            0f, -0f, 1f, 65504f, 65519.99f, 65520f, -65520f, 6.1035156e-5f, 5.9604645e-8f, 2.9802322e-8f,
            2.9802326e-8f, 8.940697e-8f, 1.0004883f, 1.0014648f, float.PositiveInfinity, float.NegativeInfinity,
        };
        for (int i = 0; i < 20000; i++)
        {
            // Random bit patterns over the fp16 range, including subnormals and exact ties.
            uint bits = (uint)random.Next(0x33000000, 0x47800000) | (random.Next(2) == 0 ? 0u : 0x80000000u);
            if (i % 4 == 0)
                bits = (bits & ~0x1FFFu) | 0x1000u;
            samples.Add(BitConverter.UInt32BitsToSingle(bits));
        }

        var ops = default(HalfOps);
        foreach (float value in samples)
        {
            float expected = (float)(System.Half)value;
            float actual = (float)ops.FromFloat(value);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual),
                $"{value:R} rounded to {actual:R}, expected {expected:R}");
        }
        Assert.True(float.IsNaN((float)ops.FromFloat(float.NaN)));
    }
}
