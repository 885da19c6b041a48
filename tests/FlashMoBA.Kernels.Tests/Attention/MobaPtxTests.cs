using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// Every MoBA kernel still compiles to PTX for SM 9.0 through the CUDA path (inline mma.sync and
/// ldmatrix), without a GPU. With FLASHMOBA_PTX_DUMP set to a folder the PTX is written there for
/// <c>ptxas -arch=sm_90 -v</c> (registers, spills, stack frame).
/// </summary>
public sealed class MobaPtxTests
{
    /// <summary>Each tensor-core kernel once, both element types and head dims among them (compiling is slow).</summary>
    [Theory]
    [InlineData(nameof(MobaForward.StatsKernel), typeof(Fp16Ops), typeof(MobaHeadDim128))]
    [InlineData(nameof(MobaForward.OutputKernel), typeof(Bf16Ops), typeof(MobaHeadDim64))]
    [InlineData(nameof(MobaForward.OutputKernel), typeof(Fp16Ops), typeof(MobaHeadDim128))]
    [InlineData(nameof(MobaBackward.Kernel), typeof(Fp16Ops), typeof(MobaHeadDim64))]
    [InlineData(nameof(MobaBackward.Kernel), typeof(Bf16Ops), typeof(MobaHeadDim128))]
    public void TensorCoreKernel_CompilesToPtxWithMmaAndLdmatrix(string kernel, Type element, Type headDim)
    {
        var owner = kernel == nameof(MobaBackward.Kernel) ? typeof(MobaBackward) : typeof(MobaForward);
        var method = owner.GetMethod(kernel, System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!
            .MakeGenericMethod(element, headDim);
        string ptx = Compile(method, $"{owner.Name}-{kernel}-{element.Name}-{headDim.Name}");
        string mma = element == typeof(Fp16Ops) ? "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32" : "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32";
        Assert.Contains(mma, ptx, StringComparison.Ordinal);
        Assert.Contains("ldmatrix.sync.aligned.m8n8.x4", ptx, StringComparison.Ordinal);
        Assert.Contains(".target sm_90", ptx, StringComparison.Ordinal);
        if (kernel != nameof(MobaForward.StatsKernel))
        {
            // The output / dQ accumulation goes out as 16-byte vector reductions, none as pairs or scalar atomics.
            Assert.Contains("red.relaxed.gpu.global.add.v4.f32", ptx, StringComparison.Ordinal);
            Assert.DoesNotContain("red.relaxed.gpu.global.add.v2.f32", ptx, StringComparison.Ordinal);
            Assert.DoesNotContain("atom.global.add.f32", ptx, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(typeof(MobaAccumulatorConvert), typeof(Fp16Ops))]
    [InlineData(typeof(MobaAccumulatorConvert), typeof(Bf16Ops))]
    [InlineData(typeof(MobaBackwardPreprocess), typeof(Fp16Ops))]
    [InlineData(typeof(MobaBackwardPreprocess), typeof(Bf16Ops))]
    [InlineData(typeof(MobaLseMerge), null)]
    public void ElementwiseKernel_CompilesToPtx(Type owner, Type? element)
    {
        var method = owner.GetMethod("Kernel", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
        if (element is not null) method = method.MakeGenericMethod(element);
        string ptx = Compile(method, $"{owner.Name}-{element?.Name ?? "float"}");
        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
    }

    private static string Compile(System.Reflection.MethodInfo method, string name)
    {
        using var compiler = new OfflinePtx();
        string ptx = compiler.Compile(method);
        var dump = Environment.GetEnvironmentVariable("FLASHMOBA_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump)) File.WriteAllText(Path.Combine(dump, name + ".ptx"), ptx);
        return ptx;
    }
}
