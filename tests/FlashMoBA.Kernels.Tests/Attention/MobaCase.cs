using FlashMoBA.Reference;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// One MoBA attention problem of the CPU tests: varlen lengths, heads, d, routing parameters, dtype, seed,
/// and optionally the head chunk and the forward's parts per segment (<c>MobaAttention.ForwardParts</c>, an
/// internal setting; null: automatic).
/// </summary>
internal sealed record MobaCase(
    int[] LengthsQ, int[] LengthsK, int Heads, int HeadsKv, int HeadDim, int BlockSize, int TopK, bool Causal,
    ElementType ElementType, int Seed, int? KeyConvWidth = null, int? HeadChunk = null, int? ForwardParts = null)
{
    /// <summary>The varlen batch.</summary>
    public VarlenBatch Batch => VarlenBatch.FromLengths(LengthsQ, LengthsK);

    /// <summary>The configuration (default scale 1/√d; automatic head chunks unless <see cref="HeadChunk"/> is set).</summary>
    public MobaConfig Config => new(BlockSize, TopK)
    {
        Causal = Causal, ElementType = ElementType, KeyConvWidth = KeyConvWidth, HeadChunk = HeadChunk,
    };

    /// <summary>The reference's shape.</summary>
    public AttentionShape Shape => AttentionShape.FromLengths(LengthsQ, LengthsK, Heads, HeadsKv, HeadDim);

    /// <summary>1/√d.</summary>
    public double Scale => 1.0 / Math.Sqrt(HeadDim);

    /// <summary>Short label for failure messages.</summary>
    public override string ToString() =>
        $"q=[{string.Join(',', LengthsQ)}] k=[{string.Join(',', LengthsK)}] H{Heads}/{HeadsKv} d{HeadDim} "
        + $"B{BlockSize} top{TopK} {(Causal ? "causal" : "full")} {ElementType} seed {Seed} chunk {HeadChunk?.ToString() ?? "auto"} "
        + $"parts {ForwardParts?.ToString() ?? "auto"}";
}

/// <summary>Seeded inputs of a case, already rounded to the storage type so that the float64 reference sees
/// exactly what the kernels read.</summary>
internal sealed class MobaInputs
{
    private MobaInputs(double[] q, double[] k, double[] v, double[] dOut)
    {
        Q = q;
        K = k;
        V = v;
        DOut = dOut;
    }

    /// <summary>Queries <c>[totalQ, H, d]</c>.</summary>
    public double[] Q { get; }

    /// <summary>Keys <c>[totalK, Hk, d]</c>.</summary>
    public double[] K { get; }

    /// <summary>Values <c>[totalK, Hk, d]</c>.</summary>
    public double[] V { get; }

    /// <summary>Output gradient <c>[totalQ, H, d]</c>.</summary>
    public double[] DOut { get; }

    /// <summary>Normal(0, 1) q, k, v, dO for <paramref name="testCase"/>; <paramref name="keys"/> replaces k when given.</summary>
    public static MobaInputs Create(MobaCase testCase, double[]? keys = null)
    {
        var random = new Random(testCase.Seed);
        var shape = testCase.Shape;
        long qLength = (long)shape.TotalQ * shape.Heads * shape.HeadDim;
        long kLength = (long)shape.TotalK * shape.HeadsKv * shape.HeadDim;
        var q = MobaHost.Normal(random, qLength, testCase.ElementType);
        var k = keys ?? MobaHost.Normal(random, kLength, testCase.ElementType);
        var v = MobaHost.Normal(random, kLength, testCase.ElementType);
        var dOut = MobaHost.Normal(random, qLength, testCase.ElementType);
        return new MobaInputs(q, k, v, dOut);
    }
}
