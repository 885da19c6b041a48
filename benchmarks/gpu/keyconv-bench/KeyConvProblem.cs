using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.KeyConvBench;

/// <summary>
/// One key-convolution problem on the device: random k, dK′ and weights, NaN-poisoned outputs and
/// the dW scratch, with forward and backward launchers that allocate nothing.
/// </summary>
internal sealed class KeyConvProblem<T> : IDisposable
    where T : unmanaged
{
    private readonly Accelerator accelerator;
    private readonly MemoryBuffer1D<T, Stride1D.Dense> k, dKPrime, kOut, dK;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> cuSeqlensK;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> weights, dW, scratch;

    public KeyConvProblem(Accelerator accelerator, int[] cuSeqlensK, int headsKv, int headDim, int width, int seed)
    {
        var elementType = KeyConvolution.ElementTypeOf<T>(nameof(T));
        this.accelerator = accelerator;
        Shape = new KeyConvShape(cuSeqlensK.Length - 1, cuSeqlensK[^1], headsKv, headDim, width);
        CuSeqlensK = cuSeqlensK;
        ElementType = elementType;
        K = StoredRandom.Uniform(Shape.KeyElements, 1.5, elementType, seed);
        DKPrime = StoredRandom.Uniform(Shape.KeyElements, 1.0, elementType, seed + 1);
        var random = new Random(seed + 2);
        Weights = new float[Shape.WeightElements];
        for (int i = 0; i < Weights.Length; i++) Weights[i] = (float)((random.NextDouble() * 2 - 1) * 0.9);

        k = K.Upload<T>(accelerator);
        dKPrime = DKPrime.Upload<T>(accelerator);
        this.cuSeqlensK = accelerator.Allocate1D(cuSeqlensK);
        weights = accelerator.Allocate1D(Weights);
        kOut = accelerator.Allocate1D<T>(Shape.KeyElements);
        dK = accelerator.Allocate1D<T>(Shape.KeyElements);
        dW = accelerator.Allocate1D<float>(Shape.WeightElements);
        Partials = KeyConvolution.DefaultPartials(accelerator, elementType, Shape);
        RoundedUpPartials = RoundedUp(accelerator, elementType, Shape);
        scratch = accelerator.Allocate1D<float>((long)Math.Max(Partials, RoundedUpPartials) * Shape.WeightElements);
        Poison();
    }

    public KeyConvShape Shape { get; }

    public int[] CuSeqlensK { get; }

    public ElementType ElementType { get; }

    public StoredRandom K { get; }

    public StoredRandom DKPrime { get; }

    public float[] Weights { get; }

    /// <summary>dW partial rows the backward uses (the library default for the device).</summary>
    public int Partials { get; }

    /// <summary>
    /// The earlier default: resident CTAs over the tiles rounded up, which can leave a few CTAs for a
    /// second wave (benchmarked for comparison).
    /// </summary>
    public int RoundedUpPartials { get; }

    private static int RoundedUp(Accelerator accelerator, ElementType elementType, KeyConvShape shape)
    {
        var kernel = KeyConvSpecialization.Backward(KernelCache.For(accelerator), elementType, shape.Width).Kernel;
        int resident = accelerator.NumMultiprocessors
            * Math.Max(1, accelerator.EstimateMaxActiveGroupsPerMultiprocessor(kernel, KeyConvBackward.Threads));
        int tiles = KeyConvBackward.TilesFor(shape);
        return Math.Max(1, (resident + tiles - 1) / tiles);
    }

    /// <summary>Fills k′, dK, dW and the scratch with NaN so unwritten elements show.</summary>
    public void Poison()
    {
        var nanBits = new ushort[Shape.KeyElements];
        Array.Fill(nanBits, ElementType == ElementType.Float16 ? (ushort)0x7E00 : (ushort)0x7FC0);
        kOut.View.BaseView.Cast<ushort>().CopyFromCPU(nanBits);
        dK.View.BaseView.Cast<ushort>().CopyFromCPU(nanBits);
        dW.View.BaseView.CopyFromCPU(NaNs(dW.Length));
        scratch.View.BaseView.CopyFromCPU(NaNs(scratch.Length));
    }

    private static float[] NaNs(long count)
    {
        var values = new float[count];
        Array.Fill(values, float.NaN);
        return values;
    }

    public void Forward(int runLength) =>
        KeyConvolution.Forward(accelerator.DefaultStream, k.View, cuSeqlensK.View, weights.View, Shape, kOut.View,
            runLength);

    /// <summary>Backward with <paramref name="runLength"/> rows per run; null: the library default.</summary>
    public void Backward(int? runLength) => Backward(runLength, Partials, KeyConvBackward.DefaultL2PrefetchRows);

    /// <summary>Backward with <paramref name="partials"/> dW partial rows (at most <see cref="Partials"/> or
    /// <see cref="RoundedUpPartials"/>) and the L2 prefetch <paramref name="l2Rows"/> rows ahead.</summary>
    public void Backward(int? runLength, int partials, int l2Rows) =>
        KeyConvolution.Backward(accelerator.DefaultStream, k.View, cuSeqlensK.View, weights.View, dKPrime.View,
            Shape, dK.View, dW.View, scratch.View, partials, runLength, l2Rows);

    /// <summary>Bytes a forward must move: read k, write k′ (16-bit), read the fp32 weights.</summary>
    public double ForwardBytes => 4.0 * Shape.KeyElements + 4.0 * Shape.WeightElements;

    /// <summary>Bytes a backward must move: read k and dK′, write dK, the weights, the dW partials written and re-read, dW.</summary>
    public double BackwardBytes(int partials) =>
        6.0 * Shape.KeyElements + 4.0 * Shape.WeightElements * (2.0 * partials + 2.0);

    public ushort[] DownloadKOut() => Download(kOut);

    public ushort[] DownloadDK() => Download(dK);

    public float[] DownloadDW() => dW.GetAsArray1D();

    public void Dispose()
    {
        k.Dispose();
        dKPrime.Dispose();
        cuSeqlensK.Dispose();
        weights.Dispose();
        kOut.Dispose();
        dK.Dispose();
        dW.Dispose();
        scratch.Dispose();
    }

    private static ushort[] Download(MemoryBuffer1D<T, Stride1D.Dense> buffer)
    {
        var bits = new ushort[buffer.Length];
        buffer.View.BaseView.Cast<ushort>().CopyToCPU(bits);
        return bits;
    }
}
