using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace FlashMoBA.Kernels.Routing;

/// <summary>
/// Block centroids (DESIGN.md §3 step 1, §4.1a): for every key block of every sequence and every KV
/// head, the mean of the keys actually in the block (a partial last block divides by its real count),
/// accumulated in fp32 and stored in the input dtype. One thread owns one (block, KV head, channel);
/// neighbouring threads read neighbouring channels, so every key row is read once, coalesced.
/// </summary>
internal static class BlockCentroids
{
    /// <summary>Key rows summed per loop step: four independent loads in flight per thread, since
    /// ILGPU does not unroll the loop and the kernel is bound by load latency.</summary>
    public const int RowsPerStep = 4;

    /// <summary>Everything the centroid kernel reads.</summary>
    /// <typeparam name="T">Storage type of keys and centroids.</typeparam>
    internal readonly struct Args<T>
        where T : unmanaged
    {
        public Args(ArrayView<T> keys, ArrayView<T> centroids, ArrayView<int> cuSeqlensK, ArrayView<int> cuBlocks,
                    int batch, int headsKv, int headDim, int blockSize)
        {
            Keys = keys;
            Centroids = centroids;
            CuSeqlensK = cuSeqlensK;
            CuBlocks = cuBlocks;
            Batch = batch;
            HeadsKv = headsKv;
            HeadDim = headDim;
            BlockSize = blockSize;
        }

        /// <summary>Keys <c>[totalK, HeadsKv, HeadDim]</c>.</summary>
        public ArrayView<T> Keys { get; }

        /// <summary>Output <c>[totalBlocks, HeadsKv, HeadDim]</c>.</summary>
        public ArrayView<T> Centroids { get; }

        /// <summary>Key prefix sums <c>[Batch+1]</c>.</summary>
        public ArrayView<int> CuSeqlensK { get; }

        /// <summary>Block prefix sums <c>[Batch+1]</c>.</summary>
        public ArrayView<int> CuBlocks { get; }

        /// <summary>Number of sequences.</summary>
        public int Batch { get; }

        /// <summary>KV heads.</summary>
        public int HeadsKv { get; }

        /// <summary>Head dimension.</summary>
        public int HeadDim { get; }

        /// <summary>MoBA block size.</summary>
        public int BlockSize { get; }
    }

    /// <summary>One thread per centroid element <c>(block, kvHead, channel)</c>.</summary>
    internal static void Kernel<T, TOps>(Index1D index, Args<T> args)
        where T : unmanaged
        where TOps : struct, IElementOps<T>
    {
        int rowElements = args.HeadsKv * args.HeadDim;
        int column = index % rowElements;
        int block = index / rowElements;
        int sequence = VarlenSearch.Find(args.CuBlocks, args.Batch, block);
        int keyStart = args.CuSeqlensK[sequence] + (block - args.CuBlocks[sequence]) * args.BlockSize;
        int count = XMath.Min(args.BlockSize, args.CuSeqlensK[sequence + 1] - keyStart);

        var ops = default(TOps);
        long element = (long)keyStart * rowElements + column;
        float sum0 = 0f, sum1 = 0f, sum2 = 0f, sum3 = 0f;
        int row = 0;
        for (; row + RowsPerStep <= count; row += RowsPerStep)
        {
            sum0 += ops.ToFloat(args.Keys[element]);
            sum1 += ops.ToFloat(args.Keys[element + rowElements]);
            sum2 += ops.ToFloat(args.Keys[element + 2L * rowElements]);
            sum3 += ops.ToFloat(args.Keys[element + 3L * rowElements]);
            element += RowsPerStep * (long)rowElements;
        }
        for (; row < count; row++)
        {
            sum0 += ops.ToFloat(args.Keys[element]);
            element += rowElements;
        }
        float mean = (sum0 + sum1 + (sum2 + sum3)) / count;
        args.Centroids[index] = ops.FromFloat(mean);
    }

    /// <summary>Launches the centroid kernel for every element of <paramref name="centroids"/>.</summary>
    internal static void Launch<T>(RoutingKernels kernels, AcceleratorStream stream, RoutingGeometry geometry,
                                   ArrayView<T> keys, ArrayView<T> centroids, ArrayView<int> cuSeqlensK,
                                   ArrayView<int> cuBlocks)
        where T : unmanaged
    {
        long elements = (long)geometry.TotalBlocks * geometry.HeadsKv * geometry.HeadDim;
        if (elements == 0)
            return;
        var args = new Args<T>(keys, centroids, cuSeqlensK, cuBlocks, geometry.Batch, geometry.HeadsKv,
                               geometry.HeadDim, geometry.BlockSize);
        kernels.Centroids<T>()(stream, (int)elements, args);
    }

    /// <summary>Loads the specialisation for <typeparamref name="T"/>.</summary>
    internal static Action<AcceleratorStream, Index1D, Args<T>> Load<T>(Accelerator accelerator)
        where T : unmanaged
    {
        if (typeof(T) == typeof(Half))
            return (Action<AcceleratorStream, Index1D, Args<T>>)(object)
                accelerator.LoadAutoGroupedKernel<Index1D, Args<Half>>(Kernel<Half, HalfOps>);
        if (typeof(T) == typeof(BFloat16))
            return (Action<AcceleratorStream, Index1D, Args<T>>)(object)
                accelerator.LoadAutoGroupedKernel<Index1D, Args<BFloat16>>(Kernel<BFloat16, BFloat16Ops>);
        throw new ArgumentException($"element type {typeof(T).Name} is not fp16 or bf16.", nameof(T));
    }
}
