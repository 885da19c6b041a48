using FlashMoBA.Cli.Tensors;
using FlashMoBA.Reference;

namespace FlashMoBA.Cli.Verify;

/// <summary>
/// MoBA attention through the public API (<see cref="MobaAttention"/>: router, forward, backward) against
/// the float64 reference. Attention is compared on the routing the library chose (so a near-tie in the
/// gate scores, decided differently by fp32 and float64, does not fail the attention check); the routing
/// itself is checked to be the reference's top-k up to such near-ties.
/// </summary>
internal sealed class MobaVerifyFamily : IVerifyFamily
{
    /// <inheritdoc/>
    public string Name => "moba";

    /// <inheritdoc/>
    public int Order => 40;

    /// <summary>
    /// The standard cases, plus the ragged and GQA ones again with the attention passes forced to run one
    /// KV group of query heads at a time (on a GPU the automatic choice keeps such small problems whole).
    /// </summary>
    public IEnumerable<VerifyCase> Cases(VerifySizes sizes)
    {
        var standard = VerifyCases.Standard(sizes).ToList();
        var chunked = standard
            .Where(c => c.Name is "ragged" or "gqa" && c.Heads > c.Heads / c.HeadsKv)
            .Select(c => c with { HeadChunk = c.Heads / c.HeadsKv, Seed = c.Seed + 1000 });
        return standard.Concat(chunked.ToList());
    }

    /// <inheritdoc/>
    public IEnumerable<VerifyCheck> Run(VerifyContext context, VerifyCase testCase) =>
        testCase.ElementType == ElementType.Float16
            ? Run<Half>(context, testCase, (s, a, shape) => s.UploadHalf(a, shape), x => HostConvert.ToFloat(x))
            : Run<BFloat16>(context, testCase, (s, a, shape) => s.UploadBFloat16(a, shape), x => HostConvert.ToFloat(x));

    private static List<VerifyCheck> Run<T>(VerifyContext context, VerifyCase testCase,
        Func<SampledTensor, ILGPU.Runtime.Accelerator, int[], DeviceTensor<T>> upload, Func<T[], float[]> widen)
        where T : unmanaged
    {
        var accelerator = context.Accelerator;
        var shape = testCase.ReferenceShape;
        var random = new Random(testCase.Seed);
        int qCount = shape.TotalQ * shape.Heads * shape.HeadDim, kCount = shape.TotalK * shape.HeadsKv * shape.HeadDim;
        var q = SampledTensor.Normal(random, qCount, testCase.ElementType);
        var k = SampledTensor.Normal(random, kCount, testCase.ElementType);
        var v = SampledTensor.Normal(random, kCount, testCase.ElementType);
        var dOut = SampledTensor.Normal(random, qCount, testCase.ElementType);
        int[] qShape = [shape.TotalQ, shape.Heads, shape.HeadDim], kvShape = [shape.TotalK, shape.HeadsKv, shape.HeadDim];

        using var attention = new MobaAttention(accelerator);
        using var qDevice = upload(q, accelerator, qShape);
        using var kDevice = upload(k, accelerator, kvShape);
        using var vDevice = upload(v, accelerator, kvShape);
        using var dOutDevice = upload(dOut, accelerator, qShape);
        var batch = testCase.Batch;
        var config = testCase.Config;
        using var forward = attention.Forward(qDevice, kDevice, vDevice, batch, config);
        using var gradients = attention.Backward(dOutDevice, qDevice, kDevice, vDevice, forward, batch, config);
        int[] selection = forward.DownloadTopkIndex();

        double scale = 1.0 / Math.Sqrt(shape.HeadDim);
        var expected = MobaReference.ForwardWithSelection(shape, q.Values, k.Values, v.Values, testCase.BlockSize,
            selection, testCase.TopK, testCase.Causal, scale);
        var expectedGrads = MobaReference.BackwardWithSelection(shape, q.Values, k.Values, v.Values, dOut.Values,
            testCase.BlockSize, selection, testCase.TopK, testCase.Causal, scale);

        double u = testCase.ElementType == ElementType.Float16 ? Math.Pow(2, -11) : Math.Pow(2, -8);
        return
        [
            RoutingCheck(shape, q.Values, k.Values, testCase, selection, u),
            VerifyCheck.Compare("out", widen(forward.Output.Download()), expected.Output,
                new Tolerance(2 * u * MaxAbs(v.Values), 2 * u)),
            VerifyCheck.Compare("lse", forward.Lse.Download(), expected.Lse, new Tolerance(2e-4, 0)),
            Gradient("dq", widen(gradients.DQ.Download()), expectedGrads.DQ, u),
            Gradient("dk", widen(gradients.DK.Download()), expectedGrads.DK, u),
            Gradient("dv", widen(gradients.DV.Download()), expectedGrads.DV, u),
        ];
    }

    /// <summary>
    /// Gradients: P and dS are rounded to 16 bits before the gradient GEMMs and the result once more;
    /// allowed 8u relative to the tensor's largest reference value.
    /// </summary>
    private static VerifyCheck Gradient(string name, float[] actual, double[] expected, double u) =>
        VerifyCheck.Compare(name, actual, expected, new Tolerance(8 * u * MaxAbs(expected), 0));

    /// <summary>
    /// For every (row, head), how far below the reference's k-th best gate score the weakest block the
    /// library selected scores, compared with 0 under a tolerance that covers fp16/bf16 centroids and
    /// fp32 gating (4u·Σ|q|·|c| of the row, taken as its largest over blocks). Causal slot 0 must be the
    /// row's own block, and every row selects as many blocks as the reference.
    /// </summary>
    private static VerifyCheck RoutingCheck(AttentionShape shape, double[] q, double[] k, VerifyCase testCase,
        int[] selection, double u)
    {
        int blockSize = testCase.BlockSize, topK = testCase.TopK;
        double[] scores = BlockRouting.GateScores(shape, q, k, blockSize);
        double[] reference = Array.ConvertAll(BlockRouting.SelectBlocks(shape, q, k, blockSize, topK, testCase.Causal), b => (double)b);
        int[] cuBlocks = BlockRouting.CuBlocks(shape.CuSeqlensK, blockSize);
        int maxBlocks = 0;
        for (int b = 0; b < shape.Batch; b++) maxBlocks = Math.Max(maxBlocks, cuBlocks[b + 1] - cuBlocks[b]);
        double[] centroids = BlockRouting.Centroids(shape, k, blockSize);

        var deficits = new float[shape.TotalQ * shape.Heads];
        var zeros = new double[deficits.Length];
        double worstAllowed = 0;
        long structural = 0;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int row = shape.CuSeqlensQ[b]; row < shape.CuSeqlensQ[b + 1]; row++)
            {
                for (int head = 0; head < shape.Heads; head++)
                {
                    int pair = row * shape.Heads + head, first = pair * topK;
                    double weakestChosen = double.PositiveInfinity, weakestReference = double.PositiveInfinity;
                    int chosen = 0, referenceCount = 0;
                    // Causal slot 0 is the forced own block, not a top-k choice.
                    for (int slot = testCase.Causal ? 1 : 0; slot < topK; slot++)
                    {
                        if (selection[first + slot] >= 0)
                        {
                            chosen++;
                            weakestChosen = Math.Min(weakestChosen, scores[(long)pair * maxBlocks + selection[first + slot]]);
                        }
                        if (reference[first + slot] >= 0)
                        {
                            referenceCount++;
                            weakestReference = Math.Min(weakestReference, scores[(long)pair * maxBlocks + (int)reference[first + slot]]);
                        }
                    }
                    if (chosen != referenceCount || (testCase.Causal && selection[first] != (int)reference[first]))
                        structural++;
                    double allowed = 4 * u * RowScale(shape, q, centroids, cuBlocks[b], cuBlocks[b + 1], row, head);
                    worstAllowed = Math.Max(worstAllowed, allowed);
                    double deficit = chosen == 0 ? 0 : Math.Max(0, weakestReference - weakestChosen);
                    deficits[pair] = (float)(deficit <= allowed ? 0 : deficit);
                }
            }
        }
        var check = VerifyCheck.Compare("routing", deficits, zeros, new Tolerance(0, 0));
        return structural == 0 ? check : VerifyCheck.Failed("routing", Tolerance.Exact,
            $"{structural} (row, head) pairs differ in the number of blocks or the own block");
    }

    /// <summary>max over the row's blocks of Σ|q_i|·|c_i|: the magnitude that rounding of the gate score scales with.</summary>
    private static double RowScale(AttentionShape shape, double[] q, double[] centroids, int firstBlock, int endBlock,
        int row, int head)
    {
        int d = shape.HeadDim, kvHead = head / (shape.Heads / shape.HeadsKv);
        double max = 0;
        for (int block = firstBlock; block < endBlock; block++)
        {
            double sum = 0;
            for (int i = 0; i < d; i++)
                sum += Math.Abs(q[((long)row * shape.Heads + head) * d + i]) * Math.Abs(centroids[((long)block * shape.HeadsKv + kvHead) * d + i]);
            max = Math.Max(max, sum);
        }
        return max;
    }

    private static double MaxAbs(double[] values)
    {
        double max = 1e-30;
        foreach (double value in values) max = Math.Max(max, Math.Abs(value));
        return max;
    }
}
