using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Tests.Primitives;

public sealed class PrimitivePtxTests
{
    [Theory]
    [InlineData(typeof(Fp16Ops), "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32")]
    [InlineData(typeof(Bf16Ops), "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")]
    public void MmaKernel_CompilesToPtxWithMmaSync(Type element, string instruction)
    {
        using var compiler = new OfflinePtx();
        var method = typeof(WarpMmaTests).GetMethod(nameof(WarpMmaTests.MmaKernel),
            System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
        string ptx = compiler.Compile(method.MakeGenericMethod(element));
        var dump = Environment.GetEnvironmentVariable("FLASHMOBA_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump)) File.WriteAllText(Path.Combine(dump, $"mma-{element.Name}.ptx"), ptx);
        Assert.Contains(instruction, ptx, StringComparison.Ordinal);
    }

    /// <summary>
    /// A register tile's add into an <see cref="InterleavedColumns"/> accumulator becomes one <c>red.…v4.f32</c> per row
    /// and 16 columns, which ptxas only accepts under <c>.target sm_90</c>: the offline compiler (like the CUDA kernel
    /// cache) must raise ILGPU's sm_80.
    /// </summary>
    [Fact]
    public void RegisterTileInterleavedAdd_CompilesToSixteenByteReductionsForSm90()
    {
        using var compiler = new OfflinePtx();
        var method = typeof(SharedMmaTests).GetMethod(nameof(SharedMmaTests.GemmKernel),
            System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
        string ptx = compiler.Compile(method.MakeGenericMethod(typeof(Fp16Ops), typeof(SharedMmaTests.Plain),
            typeof(SharedMmaTests.Plain), typeof(SharedMmaTests.ARegisters)));
        var dump = Environment.GetEnvironmentVariable("FLASHMOBA_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump)) File.WriteAllText(Path.Combine(dump, "gemm-atomic-add.ptx"), ptx);
        Assert.Contains(".target sm_90", ptx, StringComparison.Ordinal);
        // Acc16x64F32: 4 pairs of column tiles × 2 rows per lane.
        Assert.Equal(8, CountOf(ptx, "red.relaxed.gpu.global.add.v4.f32"));
        Assert.DoesNotContain("red.relaxed.gpu.global.add.v2.f32", ptx, StringComparison.Ordinal);
        Assert.DoesNotContain("atom.global.add.f32", ptx, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string value)
    {
        int count = 0;
        for (int at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + 1, StringComparison.Ordinal))
            count++;
        return count;
    }
}
