using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;
using Half = System.Half;

namespace FlashMoBA.Kernels.Tests.Primitives;

[Collection(AcceleratorCollection.Name)]
public sealed class HalfPackTests(AcceleratorFixture fixture)
{
    internal readonly struct ConvertArgs(ArrayView<float> values, ArrayView<uint> f16, ArrayView<uint> bf16, ArrayView<float> widened)
    {
        /// <summary>Floats to pack, two per output word.</summary>
        public readonly ArrayView<float> Values = values;

        /// <summary>PackF16 of each pair.</summary>
        public readonly ArrayView<uint> F16 = f16;

        /// <summary>PackBf16 of each pair.</summary>
        public readonly ArrayView<uint> Bf16 = bf16;

        /// <summary>F16ToFloat of every 16-bit pattern.</summary>
        public readonly ArrayView<float> Widened = widened;
    }

    internal static void ConvertKernel(ConvertArgs args)
    {
        int i = Grid.GlobalIndex.X;
        if (i < args.F16.IntLength)
        {
            args.F16[i] = HalfPack.PackF16(args.Values[2 * i], args.Values[2 * i + 1]);
            args.Bf16[i] = HalfPack.PackBf16(args.Values[2 * i], args.Values[2 * i + 1]);
        }
        if (i < args.Widened.IntLength) args.Widened[i] = HalfPack.F16ToFloat((ushort)i);
    }

    /// <summary>Random bit patterns (every exponent), exact fp16 ties and edge values.</summary>
    private static List<float> ConversionSamples()
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
        if (samples.Count % 2 != 0) samples.Add(1f);
        return samples;
    }

    [Fact]
    public void KernelConversions_MatchHostConversions() => CheckKernel(fixture.Accelerator);

    /// <summary>
    /// The kernel path (cvt.rn on CUDA) must agree bit for bit with the host path (verified against
    /// System.Half and BFloat16 above); NaN only has to stay NaN.
    /// </summary>
    internal static void CheckKernel(Accelerator accelerator)
    {
        var samples = ConversionSamples().ToArray();
        int pairs = samples.Length / 2;
        using var values = accelerator.Allocate1D(samples);
        using var f16 = accelerator.Allocate1D<uint>(pairs);
        using var bf16 = accelerator.Allocate1D<uint>(pairs);
        using var widened = accelerator.Allocate1D<float>(1 << 16);
        KernelCache.For(accelerator).Get<ConvertArgs>(typeof(HalfPackTests), nameof(ConvertKernel)).Launch(
            accelerator.DefaultStream, new KernelConfig((pairs + 255) / 256, 256),
            new ConvertArgs(values.View, f16.View, bf16.View, widened.View));
        var f16Result = f16.GetAsArray1D();
        var bf16Result = bf16.GetAsArray1D();
        var widenedResult = widened.GetAsArray1D();
        for (int i = 0; i < pairs; i++)
        {
            uint expectedF16 = HalfPack.FloatToF16Bits(samples[2 * i]) | ((uint)HalfPack.FloatToF16Bits(samples[2 * i + 1]) << 16);
            uint expectedBf16 = HalfPack.FloatToBf16Bits(samples[2 * i]) | ((uint)HalfPack.FloatToBf16Bits(samples[2 * i + 1]) << 16);
            AssertSameHalves(expectedF16, f16Result[i], 0x7C00, $"PackF16({samples[2 * i]:R}, {samples[2 * i + 1]:R})");
            AssertSameHalves(expectedBf16, bf16Result[i], 0x7F80, $"PackBf16({samples[2 * i]:R}, {samples[2 * i + 1]:R})");
        }
        for (int bits = 0; bits <= ushort.MaxValue; bits++)
        {
            float expected = HalfPack.F16ToFloat((ushort)bits);
            Assert.True(float.IsNaN(expected)
                    ? float.IsNaN(widenedResult[bits])
                    : BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(widenedResult[bits]),
                $"F16ToFloat(0x{bits:X4}): expected {expected}, got {widenedResult[bits]}");
        }
    }

    /// <summary>Equal halves, except that any NaN (exponent all ones, mantissa ≠ 0) matches any NaN.</summary>
    private static void AssertSameHalves(uint expected, uint actual, uint exponentMask, string what)
    {
        for (int shift = 0; shift < 32; shift += 16)
        {
            uint e = (expected >> shift) & 0xFFFF, a = (actual >> shift) & 0xFFFF;
            bool expectedNaN = (e & exponentMask) == exponentMask && (e & ~exponentMask & 0x7FFF) != 0;
            bool actualNaN = (a & exponentMask) == exponentMask && (a & ~exponentMask & 0x7FFF) != 0;
            Assert.True(expectedNaN ? actualNaN : e == a, $"{what}: expected 0x{expected:X8}, got 0x{actual:X8}");
        }
    }
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
        var samples = ConversionSamples();
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
