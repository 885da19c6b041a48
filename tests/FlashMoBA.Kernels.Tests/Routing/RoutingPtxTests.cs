using System.Reflection;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Tests.Routing;

/// <summary>Every router kernel still compiles to SM 9.0 PTX (no GPU needed); FlashTopK uses mma.sync.
/// Set FLASHMOBA_PTX_DUMP to a folder to keep the PTX for <c>ptxas -v</c>.</summary>
public sealed class RoutingPtxTests
{
    [Theory]
    [InlineData(typeof(FlashTopK), nameof(FlashTopK.Kernel), typeof(Fp16Ops), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", typeof(RegisterTopK8))]
    [InlineData(typeof(FlashTopK), nameof(FlashTopK.Kernel), typeof(Bf16Ops), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", typeof(RegisterTopK8))]
    [InlineData(typeof(FlashTopK), nameof(FlashTopK.Kernel), typeof(Fp16Ops), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", typeof(SharedTopK))]
    [InlineData(typeof(BlockCentroids), nameof(BlockCentroids.Kernel), typeof(Fp16Ops), "cvt.rn.f16x2.f32")]
    [InlineData(typeof(BlockCentroids), nameof(BlockCentroids.Kernel), typeof(Bf16Ops), "cvt.rn.bf16x2.f32")]
    [InlineData(typeof(KeyBlockIndex), nameof(KeyBlockIndex.CountKernel), null, "red.add.global")]
    [InlineData(typeof(KeyBlockIndex), nameof(KeyBlockIndex.SegmentTableKernel), null, ".entry")]
    [InlineData(typeof(KeyBlockIndex), nameof(KeyBlockIndex.ScatterKernel), null, "popc")]
    [InlineData(typeof(KeyBlockIndex), nameof(KeyBlockIndex.ScatterSharedKernel), null, "atom.or.shared")]
    [InlineData(typeof(TiledExclusiveScan), nameof(TiledExclusiveScan.TileTotalsKernel), null, "bar.sync")]
    [InlineData(typeof(TiledExclusiveScan), nameof(TiledExclusiveScan.TileBasesKernel), null, "shfl.sync")]
    [InlineData(typeof(TiledExclusiveScan), nameof(TiledExclusiveScan.TilePrefixesKernel), null, "shfl.sync")]
    public void RoutingKernel_CompilesToPtx(Type owner, string kernel, Type? element, string expected, Type? list = null)
    {
        using var compiler = new OfflinePtx();
        var method = owner.GetMethod(kernel, BindingFlags.Static | BindingFlags.NonPublic)!;
        if (element is not null)
            method = list is null ? method.MakeGenericMethod(element) : method.MakeGenericMethod(element, list);
        string ptx = compiler.Compile(method);
        var dump = Environment.GetEnvironmentVariable("FLASHMOBA_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump))
            File.WriteAllText(Path.Combine(dump, $"routing-{owner.Name}-{kernel}-{element?.Name ?? "int"}{list?.Name}.ptx"), ptx);
        Assert.Contains(expected, ptx, StringComparison.Ordinal);
    }
}
