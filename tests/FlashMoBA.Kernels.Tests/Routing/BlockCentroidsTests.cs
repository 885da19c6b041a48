using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Tests.Infrastructure;
using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.Tests.Routing;

[Collection(AcceleratorCollection.Name)]
public sealed class BlockCentroidsTests
{
    /// <summary>
    /// A centroid is the fp32 mean of at most B keys rounded once to the storage dtype, so it may differ
    /// from the float64 mean by half a unit in the last place of the dtype (unit roundoff 2^-11 for fp16,
    /// 2^-8 for bf16) plus the fp32 summation error (≤ B · 2^-24 · mean |k|, bounded here with the
    /// largest |k|) plus, for fp16, half the smallest subnormal (2^-25) where the mean is tiny.
    /// </summary>
    private static double Tolerance(ElementType type, double reference, int blockSize, double maxAbsKey)
    {
        double unitRoundoff = type == ElementType.BFloat16 ? Math.Pow(2, -8) : Math.Pow(2, -11);
        return unitRoundoff * Math.Abs(reference) + blockSize * Math.Pow(2, -24) * maxAbsKey + Math.Pow(2, -25);
    }

    private readonly AcceleratorFixture fixture;

    public BlockCentroidsTests(AcceleratorFixture fixture) => this.fixture = fixture;

    [Theory]
    [InlineData(ElementType.Float16, new[] { 37 }, 1, 16, 16, 1)]               // ragged tail of 5 keys
    [InlineData(ElementType.BFloat16, new[] { 37 }, 1, 16, 16, 2)]
    [InlineData(ElementType.Float16, new[] { 70, 5, 129 }, 2, 32, 32, 3)]       // varlen, GQA KV heads
    [InlineData(ElementType.BFloat16, new[] { 70, 5, 129 }, 2, 32, 32, 4)]
    [InlineData(ElementType.Float16, new[] { 64, 0, 100 }, 1, 64, 64, 5)]       // empty sequence, MQA
    public void Centroids_RaggedVarlen_MatchReferenceWithinRounding(ElementType type, int[] lengthsK, int headsKv,
                                                                   int headDim, int blockSize, int seed)
    {
        var lengthsQ = lengthsK.Select(n => Math.Max(1, n)).ToArray();
        var geometry = RoutingGeometry.Create(RoutingTestData.Cu(lengthsQ), RoutingTestData.Cu(lengthsK),
                                              2 * headsKv, headsKv, headDim, blockSize, 2, true, type);
        var shape = RoutingTestData.ShapeOf(geometry);
        var keys = RoutingTestData.Normal(new Random(seed), (long)geometry.TotalK * headsKv * headDim, type);

        float[] actual = type == ElementType.BFloat16
            ? Run<BFloat16>(geometry, keys)
            : Run<Half>(geometry, keys);

        double[] expected = BlockRouting.Centroids(shape, keys, blockSize);
        Assert.Equal(expected.Length, actual.Length);
        double maxAbsKey = keys.Length == 0 ? 0 : keys.Max(Math.Abs);
        double worst = 0;
        int worstIndex = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Assert.False(double.IsNaN(actual[i]), $"centroid {i} was not written");
            if (error - Tolerance(type, expected[i], blockSize, maxAbsKey) > worst)
            {
                worst = error - Tolerance(type, expected[i], blockSize, maxAbsKey);
                worstIndex = i;
            }
        }
        Assert.True(worstIndex < 0,
            $"centroid {worstIndex}: {actual[Math.Max(0, worstIndex)]} vs {expected[Math.Max(0, worstIndex)]}, over tolerance by {worst:E3}");
    }

    private float[] Run<T>(RoutingGeometry geometry, double[] keys)
        where T : unmanaged
    {
        var accelerator = fixture.Accelerator;
        var stream = accelerator.DefaultStream;
        var router = new Router(accelerator);
        using var plan = RoutingPlan.Allocate(accelerator, geometry);
        using var k = RoutingTestData.Upload<T>(accelerator, keys);
        RoutingTestData.Poison(stream, plan.Centroids, geometry.ElementType == ElementType.BFloat16 ? (ushort)0x7FC0 : (ushort)0x7E00);

        router.BuildCentroids(stream, plan, k.View.AsContiguous().Cast<uint>());

        stream.Synchronize();
        return plan.Centroids.GetAsArray1D().Select(bits => geometry.ElementType == ElementType.BFloat16
            ? new BFloat16(bits).ToFloat()
            : (float)BitConverter.UInt16BitsToHalf(bits)).ToArray();
    }
}
