using FlashMoBA.Cli.Tensors;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Reference;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Verify;

/// <summary>
/// The router's stages (DESIGN.md §4.1): block centroids against the reference's means, and the
/// key-block-centric reindex of the reference's top-k selection against a host regrouping (exact).
/// </summary>
internal sealed class RoutingFamily : IVerifyFamily
{
    /// <summary>A centroid is an fp32 mean of at most B stored keys, rounded once: the fp32 sum of ≤ 128
    /// terms of |k| ≲ 4 errs by ≲ 128·2^−24·4 ≈ 3e−5 before division, far below the storage rounding.</summary>
    private const double CentroidFp32Floor = 1e-4;

    /// <inheritdoc/>
    public string Name => "router";

    /// <inheritdoc/>
    public int Order => 20;

    /// <inheritdoc/>
    public IEnumerable<VerifyCase> Cases(VerifySizes sizes) => VerifyCases.Standard(sizes);

    /// <inheritdoc/>
    public IEnumerable<VerifyCheck> Run(VerifyContext context, VerifyCase testCase) =>
        testCase.ElementType == ElementType.Float16
            ? Run<ILGPU.Half>(context.Accelerator, testCase)
            : Run<BFloat16>(context.Accelerator, testCase);

    private static List<VerifyCheck> Run<T>(Accelerator accelerator, VerifyCase testCase) where T : unmanaged
    {
        var shape = testCase.ReferenceShape;
        var geometry = RoutingGeometry.Create(shape.CuSeqlensQ, shape.CuSeqlensK, testCase.Heads, testCase.HeadsKv,
            testCase.HeadDim, testCase.BlockSize, testCase.TopK, testCase.Causal, testCase.ElementType);
        var random = new Random(testCase.Seed);
        var q = SampledTensor.Normal(random, shape.TotalQ * shape.Heads * shape.HeadDim, testCase.ElementType);
        var k = SampledTensor.Normal(random, shape.TotalK * shape.HeadsKv * shape.HeadDim, testCase.ElementType);

        var stream = accelerator.DefaultStream;
        var kernels = new RoutingKernels(accelerator);
        using var plan = RoutingPlan.Allocate(kernels, geometry);
        using var keys = k.Upload<T>(accelerator);
        Fill(stream, plan.Centroids, testCase.ElementType == ElementType.Float16 ? (ushort)0x7E00 : (ushort)0x7FC0); // NaN
        BlockCentroids.Launch(kernels, stream, geometry, keys.View.AsContiguous(), plan.CentroidsAs<T>(),
            plan.CuSeqlensK.View, plan.CuBlocks.View);

        int[] selection = BlockRouting.SelectBlocks(shape, q.Values, k.Values, testCase.BlockSize, testCase.TopK, testCase.Causal);
        if (selection.Length > 0) plan.TopkIndex.View.SubView(0, selection.Length).CopyFromCPU(stream, selection);
        Fill(stream, plan.SegmentRows, int.MinValue);
        KeyBlockIndex.Launch(kernels, stream, plan);
        var snapshot = plan.CopyToHost(stream);

        var expected = HostRegrouping(geometry, selection);
        return
        [
            VerifyCheck.Compare("centroids", snapshot.CentroidsAsFloat(),
                BlockRouting.Centroids(shape, k.Values, testCase.BlockSize),
                VerifyTolerances.StoredOnce(testCase.ElementType, CentroidFp32Floor)),
            VerifyCheck.CompareExact("seg counts", snapshot.SegmentCounts, expected.Counts),
            VerifyCheck.CompareExact("seg offsets", snapshot.SegmentOffsets, expected.Offsets),
            VerifyCheck.CompareExact("seg rows", snapshot.SegmentRows, expected.Rows),
        ];
    }

    /// <summary>Poisons a buffer so that elements a kernel fails to write are caught.</summary>
    private static void Fill<TValue>(AcceleratorStream stream, MemoryBuffer1D<TValue, Stride1D.Dense> buffer, TValue value)
        where TValue : unmanaged
    {
        var values = new TValue[buffer.Length];
        Array.Fill(values, value);
        buffer.View.CopyFromCPU(stream, values);
    }

    /// <summary>The reindex computed plainly: segment s = (global block g) × H + h lists, ascending, the
    /// sequence-local rows whose selection for head h contains g's local index.</summary>
    private static (int[] Counts, int[] Offsets, int[] Rows) HostRegrouping(RoutingGeometry geometry, int[] selection)
    {
        var rows = new List<int>[geometry.Segments];
        for (int s = 0; s < rows.Length; s++) rows[s] = [];
        for (int b = 0; b < geometry.Batch; b++)
        {
            for (int row = geometry.CuSeqlensQ[b]; row < geometry.CuSeqlensQ[b + 1]; row++)
            {
                for (int h = 0; h < geometry.Heads; h++)
                {
                    var chosen = new HashSet<int>();
                    for (int slot = 0; slot < geometry.TopK; slot++)
                    {
                        int block = selection[(row * geometry.Heads + h) * geometry.TopK + slot];
                        if (block >= 0 && chosen.Add(block))
                            rows[(geometry.CuBlocks[b] + block) * geometry.Heads + h].Add(row - geometry.CuSeqlensQ[b]);
                    }
                }
            }
        }
        var counts = rows.Select(r => r.Count).ToArray();
        var offsets = new int[counts.Length + 1];
        for (int s = 0; s < counts.Length; s++) offsets[s + 1] = offsets[s] + counts[s];
        return (counts, offsets, rows.SelectMany(r => r).ToArray());
    }
}
