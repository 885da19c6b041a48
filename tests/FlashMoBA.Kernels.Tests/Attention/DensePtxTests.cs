using System.Reflection;
using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// Every dense kernel specialisation compiles to SM 9.0 PTX without a GPU and uses tensor cores.
/// Set FLASHMOBA_PTX_DUMP to a folder to keep the PTX for <c>ptxas -arch=sm_90 -v</c>.
/// </summary>
public sealed class DensePtxTests
{
    public static TheoryData<string, ElementType, int, bool> Kernels()
    {
        var data = new TheoryData<string, ElementType, int, bool>();
        foreach (var (name, _) in DenseKernels.All)
        {
            foreach (var type in new[] { ElementType.Float16, ElementType.BFloat16 })
            {
                foreach (int headDim in DenseAttentionShape.SupportedHeadDims)
                {
                    data.Add(name, type, headDim, false);
                    data.Add(name, type, headDim, true);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Kernel_CompilesToPtxWithMmaSync(string name, ElementType type, int headDim, bool causal)
    {
        var method = DenseKernels.Method(name, type, headDim, causal);
        using var compiler = new OfflinePtx();
        string ptx = compiler.Compile(method);
        var dump = Environment.GetEnvironmentVariable("FLASHMOBA_PTX_DUMP");
        if (!string.IsNullOrEmpty(dump))
        {
            File.WriteAllText(Path.Combine(dump, $"dense-{name}-{type}-d{headDim}-{(causal ? "causal" : "full")}.ptx"), ptx);
        }
        if (DenseKernels.UsesTensorCores(name)) Assert.Contains("mma.sync.aligned.m16n8k16", ptx, StringComparison.Ordinal);
        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
    }
}
