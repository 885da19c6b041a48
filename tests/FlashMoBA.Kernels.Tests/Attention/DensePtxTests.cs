using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// Every dense attention kernel still compiles to PTX for SM 9.0 through the CUDA path (inline mma.sync and
/// ldmatrix), without a GPU. With FLASHMOBA_PTX_DUMP set to a folder the PTX is written there for
/// <c>ptxas -arch=sm_90 -v</c> (registers, spills, stack frame).
/// </summary>
public sealed class DensePtxTests
{
    /// <summary>
    /// Each kernel in both element types, each type with one head dimension (fp16 d128, bf16 d64): an
    /// offline O2 compile costs tens of seconds on the shared CPU, and the head dimension only changes
    /// unrolled register code, not which instructions the CUDA path emits.
    /// </summary>
    public static TheoryData<Type, Type, Type> Kernels()
    {
        var data = new TheoryData<Type, Type, Type>();
        foreach (var owner in new[] { typeof(DenseForward), typeof(DenseBackward) })
        {
            data.Add(owner, typeof(Fp16Ops), typeof(MobaHeadDim128));
            data.Add(owner, typeof(Bf16Ops), typeof(MobaHeadDim64));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void DenseKernel_CompilesToPtxWithMmaAndLdmatrix(Type owner, Type element, Type headDim)
    {
        var method = owner.GetMethod(nameof(DenseForward.Kernel),
                System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!
            .MakeGenericMethod(element, headDim);
        using var compiler = new OfflinePtx();
        string ptx = compiler.Compile(method);
        var dump = Environment.GetEnvironmentVariable("FLASHMOBA_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump))
            File.WriteAllText(Path.Combine(dump, $"{owner.Name}-{element.Name}-{headDim.Name}.ptx"), ptx);
        string mma = element == typeof(Fp16Ops)
            ? "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"
            : "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32";
        Assert.Contains(mma, ptx, StringComparison.Ordinal);
        Assert.Contains("ldmatrix.sync.aligned.m8n8.x4", ptx, StringComparison.Ordinal);
        // The backward adds dQ with 16-byte vector reductions (sm_90).
        if (owner == typeof(DenseBackward))
            Assert.Contains("red.relaxed.gpu.global.add.v4.f32", ptx, StringComparison.Ordinal);
    }
}
