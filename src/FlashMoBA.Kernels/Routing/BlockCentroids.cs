using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Block centroids (DESIGN.md §3 step 1, §4.1a): for every key block of every sequence and every KV
/// head, the mean of the keys actually in the block (a partial last block divides by its real count),
/// accumulated in fp32 and rounded once to the input dtype. One thread owns one (block, KV head,
/// channel pair); neighbouring threads read neighbouring 4-byte pairs, so every key row is read once,
/// coalesced.
/// </summary>
internal static class BlockCentroids
{
    /// <summary>Threads per group.</summary>
    public const int Threads = 256;

    /// <summary>Key rows summed per loop step: four independent loads in flight per thread, since
    /// ILGPU does not unroll the loop and the kernel is bound by load latency.</summary>
    public const int RowsPerStep = 4;

    /// <summary>Everything the centroid kernel reads.</summary>
    internal readonly struct Args(ArrayView<uint> keys, ArrayView<uint> centroids, ArrayView<int> cuSeqlensK,
                                  ArrayView<int> cuBlocks, int batch, int headsKv, int headDim, int blockSize)
    {
        /// <summary>Keys <c>[totalK, HeadsKv, HeadDim / 2]</c> as packed 16-bit pairs.</summary>
        public readonly ArrayView<uint> Keys = keys;

        /// <summary>Output <c>[totalBlocks, HeadsKv, HeadDim / 2]</c> as packed pairs.</summary>
        public readonly ArrayView<uint> Centroids = centroids;

        /// <summary>Key prefix sums <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuSeqlensK = cuSeqlensK;

        /// <summary>Block prefix sums <c>[Batch+1]</c>.</summary>
        public readonly ArrayView<int> CuBlocks = cuBlocks;

        /// <summary>Number of sequences.</summary>
        public readonly int Batch = batch;

        /// <summary>KV heads.</summary>
        public readonly int HeadsKv = headsKv;

        /// <summary>Head dimension.</summary>
        public readonly int HeadDim = headDim;

        /// <summary>MoBA block size.</summary>
        public readonly int BlockSize = blockSize;
    }

    /// <summary>One thread per packed centroid pair <c>(block, kvHead, channel / 2)</c>.</summary>
    internal static void Kernel<TElem>(Args args)
        where TElem : struct, IElementOps
    {
        int pair = Grid.GlobalIndex.X;
        if (pair >= args.Centroids.IntLength)
            return;
        int rowPairs = args.HeadsKv * args.HeadDim / 2;
        int column = pair % rowPairs;
        int block = pair / rowPairs;
        int sequence = VarlenSearch.Find(args.CuBlocks, args.Batch, block);
        int keyStart = args.CuSeqlensK[sequence] + (block - args.CuBlocks[sequence]) * args.BlockSize;
        int count = XMath.Min(args.BlockSize, args.CuSeqlensK[sequence + 1] - keyStart);

        var ops = default(TElem);
        long element = (long)keyStart * rowPairs + column;
        float lo0 = 0f, hi0 = 0f, lo1 = 0f, hi1 = 0f;
        int row = 0;
        for (; row + RowsPerStep <= count; row += RowsPerStep)
        {
            uint k0 = args.Keys[element];
            uint k1 = args.Keys[element + rowPairs];
            uint k2 = args.Keys[element + 2L * rowPairs];
            uint k3 = args.Keys[element + 3L * rowPairs];
            lo0 += ops.Lo(k0) + ops.Lo(k1);
            hi0 += ops.Hi(k0) + ops.Hi(k1);
            lo1 += ops.Lo(k2) + ops.Lo(k3);
            hi1 += ops.Hi(k2) + ops.Hi(k3);
            element += RowsPerStep * (long)rowPairs;
        }
        for (; row < count; row++)
        {
            uint k0 = args.Keys[element];
            lo0 += ops.Lo(k0);
            hi0 += ops.Hi(k0);
            element += rowPairs;
        }
        args.Centroids[pair] = ops.Pack((lo0 + lo1) / count, (hi0 + hi1) / count);
    }

    /// <summary>
    /// Launches the centroid kernel. <paramref name="keys"/> and <paramref name="centroids"/> are the
    /// 16-bit tensors viewed as packed pairs (<c>HeadDim</c> is even).
    /// </summary>
    internal static void Launch(KernelCache cache, AcceleratorStream stream, RoutingGeometry geometry,
                                ArrayView<uint> keys, ArrayView<uint> centroids, ArrayView<int> cuSeqlensK,
                                ArrayView<int> cuBlocks)
    {
        long pairs = (long)geometry.TotalBlocks * geometry.HeadsKv * geometry.HeadDim / 2;
        if (pairs == 0)
            return;
        var args = new Args(keys, centroids.SubView(0, pairs), cuSeqlensK, cuBlocks, geometry.Batch,
                            geometry.HeadsKv, geometry.HeadDim, geometry.BlockSize);
        var kernel = cache.Get<Args>(typeof(BlockCentroids), nameof(Kernel), RoutingGeometry.ElementOpsType(geometry.ElementType));
        kernel.Launch(stream, new KernelConfig((int)((pairs + Threads - 1) / Threads), Threads), args);
    }
}
