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
}
