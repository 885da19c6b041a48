using ILGPU;
using ILGPU.Runtime;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Attention;

/// <summary>Everything the dense forward kernel reads; built once per call on the host.</summary>
internal readonly struct DenseForwardArgs
{
    /// <summary>Creates the arguments; views are 16-byte chunk views of the 16-bit tensors.</summary>
    public DenseForwardArgs(DenseAttentionShape shape, ArrayView<Chunk16> q, ArrayView<Chunk16> k, ArrayView<Chunk16> v,
        ArrayView<int> cuSeqlensQ, ArrayView<int> cuSeqlensK, ArrayView<uint> output, ArrayView<float> lse, float scale)
    {
        Q = q;
        K = k;
        V = v;
        CuSeqlensQ = cuSeqlensQ;
        CuSeqlensK = cuSeqlensK;
        Output = output;
        Lse = lse;
        Heads = shape.Heads;
        HeadsKv = shape.HeadsKv;
        TotalQ = shape.TotalQ;
        Scale = scale;
        ScaleLog2 = scale * (float)Math.Log2(Math.E);
    }

    /// <summary>q <c>[totalQ, H, d]</c> in 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> Q;

    /// <summary>k <c>[totalK, Hk, d]</c> in 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> K;

    /// <summary>v <c>[totalK, Hk, d]</c> in 16-byte chunks.</summary>
    public readonly ArrayView<Chunk16> V;

    /// <summary>Query prefix sums <c>[batch+1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensQ;

    /// <summary>Key prefix sums <c>[batch+1]</c>.</summary>
    public readonly ArrayView<int> CuSeqlensK;

    /// <summary>o <c>[totalQ, H, d]</c> as pairs of 16-bit values.</summary>
    public readonly ArrayView<uint> Output;

    /// <summary>LSE <c>[H, totalQ]</c>, natural log.</summary>
    public readonly ArrayView<float> Lse;

    /// <summary>Query heads H.</summary>
    public readonly int Heads;

    /// <summary>KV heads Hk.</summary>
    public readonly int HeadsKv;

    /// <summary>Total query rows (LSE row stride).</summary>
    public readonly int TotalQ;

    /// <summary>Softmax scale.</summary>
    public readonly float Scale;

    /// <summary>Softmax scale · log2(e), so that exp(scale·s) = 2^(s·ScaleLog2).</summary>
    public readonly float ScaleLog2;
}

internal static partial class DenseForward
{
    /// <summary>Dynamic shared memory: Q tile plus one K and one V tile of 16-bit values.</summary>
    public static int SharedBytes(int headDim) => (BlockM + 2 * BlockN) * headDim * 2;

    /// <summary>Compiles (once) and launches the specialisation for the element type, head dim and mask.</summary>
    internal static void Launch(KernelCache cache, AcceleratorStream stream, DenseAttentionShape shape,
        ElementType type, bool causal, in DenseForwardArgs args)
    {
        var kernel = cache.Get<DenseForwardArgs>(typeof(DenseForward), nameof(Kernel), Specialization(type, shape.HeadDim, causal));
        int chunks = SharedBytes(shape.HeadDim) / 16;
        var grid = new Index3D((shape.MaxSeqlenQ + BlockM - 1) / BlockM, shape.Heads, shape.Batch);
        kernel.Launch(stream, new KernelConfig(grid, new Index3D(Threads, 1, 1),
            SharedMemoryConfig.RequestDynamic<Chunk16>(chunks)), args);
    }

    /// <summary>The generic arguments of <see cref="Kernel"/>: one flat switch over (head dim, dtype, mask).</summary>
    internal static Type[] Specialization(ElementType type, int headDim, bool causal)
    {
        var element = type == ElementType.Float16 ? typeof(Fp16Ops) : typeof(Bf16Ops);
        var mask = causal ? typeof(Causal) : typeof(NonCausal);
        return headDim switch
        {
            64 => [element, typeof(FragA16x64), typeof(Acc16x64F32), mask],
            128 => [element, typeof(FragA16x128), typeof(Acc16x128F32), mask],
            _ => throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "Head dim must be 64 or 128."),
        };
    }
}
