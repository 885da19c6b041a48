using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Tests.Primitives;

public sealed class HalfPackTests
{
    [Fact]
    public void F16ToFloat_EveryBitPattern_MatchesSystemHalf()
    {
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float actual = HalfPack.F16ToFloat((ushort)bits);
            if (float.IsNaN(expected))
            {
                Assert.True(float.IsNaN(actual), $"bits 0x{bits:X4}");
                continue;
            }
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                $"bits 0x{bits:X4}: expected {expected}, got {actual}");
        }
    }

    [Fact]
    public void FloatToF16Bits_RandomAndBoundaryFloats_MatchSystemHalfRounding()
    {
        var random = new Random(1234);
        var samples = new List<float>
        {
            0f, -0f, 65504f, 65519.99f, 65520f, -65520f, 1e-8f, 2.98e-8f, 2.9802322e-8f, 5.9604645e-8f,
            6.1035156e-5f, 6.1032e-5f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon,
        };
        for (int i = 0; i < 200_000; i++)
        {
            // Uniform bit patterns cover every exponent, including the subnormal and overflow ranges.
            samples.Add(BitConverter.Int32BitsToSingle(random.Next() | (random.Next(2) << 31)));
        }
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            // Exact ties between neighbouring fp16 values exercise round-to-nearest-even.
            float value = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            float next = (float)BitConverter.UInt16BitsToHalf((ushort)(bits + 1));
            if (float.IsFinite(value) && float.IsFinite(next)) samples.Add((value + next) / 2);
        }
        foreach (float value in samples)
        {
            ushort expected = BitConverter.HalfToUInt16Bits((Half)value);
            ushort actual = HalfPack.FloatToF16Bits(value);
            if (float.IsNaN(value))
            {
                Assert.True((actual & 0x7C00) == 0x7C00 && (actual & 0x3FF) != 0, $"NaN gave 0x{actual:X4}");
                continue;
            }
            Assert.True(expected == actual, $"{value:R}: expected 0x{expected:X4}, got 0x{actual:X4}");
        }
    }

    [Fact]
    public void Bf16Conversions_RandomFloats_MatchBFloat16()
    {
        var random = new Random(99);
        for (int i = 0; i < 200_000; i++)
        {
            float value = BitConverter.Int32BitsToSingle(random.Next() | (random.Next(2) << 31));
            ushort expected = BFloat16.FromFloat(value).Bits;
            Assert.Equal(expected, HalfPack.FloatToBf16Bits(value));
            uint packed = HalfPack.PackBf16(value, -value);
            Assert.Equal(expected, (ushort)packed);
            Assert.Equal(new BFloat16(expected).ToFloat(), HalfPack.Bf16Lo(packed));
        }
    }

    [Fact]
    public void Pack_PutsLowArgumentInLowHalf()
    {
        uint f16 = HalfPack.PackF16(1.5f, -2.25f);
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)1.5f), (ushort)f16);
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)(-2.25f)), (ushort)(f16 >> 16));
        Assert.Equal(1.5f, HalfPack.F16Lo(f16));
        Assert.Equal(-2.25f, HalfPack.F16Hi(f16));

        uint bf16 = HalfPack.PackBf16(3f, -0.5f);
        Assert.Equal(3f, HalfPack.Bf16Lo(bf16));
        Assert.Equal(-0.5f, HalfPack.Bf16Hi(bf16));
    }
}
