using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Primitives;

/// <summary>
/// C (64×64) = A·B through the whole shared-memory path: 16-byte copies into swizzled tiles,
/// ldmatrix (plain and .trans) for every operand orientation, generated MMA tiles, 16-byte reductions out into an
/// accumulator in <see cref="InterleavedColumns"/> order (read back through it, so a wrong order fails).
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class SharedMmaTests(AcceleratorFixture fixture)
{
    private const int Size = 64, Warps = 4, ChunksPerRow = Size / Chunk16.Elements;

    /// <summary>fp32 accumulation of 64 exact products: 64 · 2^-24 relative to Σ|a·b|, with 4x headroom.</summary>
    private const double RelativeTolerance = 256.0 / (1 << 24);

    internal readonly struct GemmArgs(ArrayView<Chunk16> a, ArrayView<Chunk16> b, ArrayView<float> c)
    {
        /// <summary>A (or Aᵀ when transposed) as 64 rows of 64 16-bit values.</summary>
        public readonly ArrayView<Chunk16> A = a;

        /// <summary>B (or Bᵀ when transposed) as 64 rows of 64 16-bit values.</summary>
        public readonly ArrayView<Chunk16> B = b;

        /// <summary>C, 64×64 fp32, zeroed by the host and accumulated atomically.</summary>
        public readonly GlobalAccumulator C = new(c);
    }

    internal interface IOrientation
    {
        bool IsTransposed { get; }
    }

    internal readonly struct Plain : IOrientation
    {
        public bool IsTransposed => false;
    }

    internal readonly struct Transposed : IOrientation
    {
        public bool IsTransposed => true;
    }

    internal interface IAPath
    {
        bool InRegisters { get; }
    }

    internal readonly struct ASharedSteps : IAPath
    {
        public bool InRegisters => false;
    }

    internal readonly struct ARegisters : IAPath
    {
        public bool InRegisters => true;
    }

    internal static void GemmKernel<TElem, TAOrient, TBOrient, TPath>(GemmArgs args)
        where TElem : struct, IElementOps
        where TAOrient : struct, IOrientation
        where TBOrient : struct, IOrientation
        where TPath : struct, IAPath
    {
        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var tileA = new SharedTile(0, ChunksPerRow);
        var tileB = new SharedTile(Size * ChunksPerRow, ChunksPerRow);
        int thread = Group.IdxX, threads = Group.DimX;
        TileCopy.GlobalToShared(args.A, 0, ChunksPerRow, Size, shared, tileA, Size, thread, threads);
        TileCopy.GlobalToShared(args.B, 0, ChunksPerRow, Size, shared, tileB, Size, thread, threads);
        Group.Barrier();

        int m0 = Warp.WarpIdx * 16;
        var acc = default(Acc16x64F32);
        if (default(TBOrient).IsTransposed) Multiply<TElem, TAOrient, TPath, TransposedTileB>(ref acc, words, tileA, new TransposedTileB(tileB), m0);
        else Multiply<TElem, TAOrient, TPath, TileB>(ref acc, words, tileA, new TileB(tileB), m0);

        int lane = Warp.LaneIdx;
        acc.AtomicAddInterleaved(args.C, (m0 + (lane >> 2)) * Size, (m0 + (lane >> 2) + 8) * Size);
    }

    private static void Multiply<TElem, TAOrient, TPath, TB>(ref Acc16x64F32 acc, ArrayView<uint> words,
        SharedTile tileA, TB b, int m0)
        where TElem : struct, IElementOps
        where TAOrient : struct, IOrientation
        where TPath : struct, IAPath
        where TB : struct, ISharedOperandB
    {
        if (default(TAOrient).IsTransposed) Multiply<TElem, TPath, TransposedTileA, TB>(ref acc, words, new TransposedTileA(tileA), b, m0);
        else Multiply<TElem, TPath, TileA, TB>(ref acc, words, new TileA(tileA), b, m0);
    }

    private static void Multiply<TElem, TPath, TA, TB>(ref Acc16x64F32 acc, ArrayView<uint> words, TA a, TB b, int m0)
        where TElem : struct, IElementOps
        where TPath : struct, IAPath
        where TA : struct, ISharedOperandA
        where TB : struct, ISharedOperandB
    {
        if (default(TPath).InRegisters)
        {
            var fragments = default(FragA16x64);
            fragments.Load(words, a, m0, 0);
            acc.Mma<TElem, TB>(fragments, words, b, 0, 0);
        }
        else
        {
            for (int k0 = 0; k0 < Size; k0 += 16) acc.MmaStep<TElem, TA, TB>(words, a, m0, b, 0, k0);
        }
    }

    [Theory]
    [InlineData(ElementType.Float16, false, false, false)]
    [InlineData(ElementType.Float16, true, false, false)]
    [InlineData(ElementType.Float16, false, true, true)]
    [InlineData(ElementType.BFloat16, true, true, false)]
    [InlineData(ElementType.BFloat16, false, false, true)]
    [InlineData(ElementType.Float16, false, false, true)]
    [InlineData(ElementType.BFloat16, false, true, true)]
    public void Gemm_EveryOperandOrientation_MatchesScalarProduct(ElementType type, bool transposeA, bool transposeB,
        bool aInRegisters) =>
        Check(fixture.Accelerator, type, transposeA, transposeB, aInRegisters);

    [Fact]
    public void InterleavedColumns_EveryGroupIsAPermutationWithEachLanesFourValuesSideBySide()
    {
        for (int group = 0; group < 3; group++)
        {
            var columns = Enumerable.Range(0, InterleavedColumns.Group)
                .Select(p => InterleavedColumns.ColumnAt(group * InterleavedColumns.Group + p)).ToArray();
            Assert.Equal(Enumerable.Range(group * InterleavedColumns.Group, InterleavedColumns.Group), columns.Order());
            for (int t = 0; t < 4; t++)
            {
                // Lane t of a quad holds columns 2t, 2t + 1 of both 8-column tiles of the group.
                int first = group * InterleavedColumns.Group + 2 * t;
                Assert.Equal(new[] { first, first + 1, first + 8, first + 9 }, columns.Skip(4 * t).Take(4));
                Assert.Equal(group * 8 + t, InterleavedColumns.FirstPair(group * 4 + t));
            }
        }
    }

    /// <summary>The check itself, shared with the GPU self-check (benchmarks/gpu/primitives-check).</summary>
    internal static void Check(Accelerator accelerator, ElementType type, bool transposeA, bool transposeB,
        bool aInRegisters)
    {
        var random = new Random(HashCode.Combine(type, transposeA, transposeB, aInRegisters) & 0xFFFF);
        var a = HostTensors.RandomBits(random, Size * Size, type);
        var b = HostTensors.RandomBits(random, Size * Size, type);
        // Storage: A[m][k] or Aᵀ[k][m]; B[k][n] or Bᵀ[n][k].
        var storedA = transposeA ? HostTensors.Transpose(a, Size) : a;
        var storedB = transposeB ? HostTensors.Transpose(b, Size) : b;

        using var aBuffer = accelerator.Allocate1D(storedA);
        using var bBuffer = accelerator.Allocate1D(storedB);
        using var cBuffer = accelerator.Allocate1D<float>(Size * Size);
        cBuffer.MemSetToZero();
        var kernel = KernelCache.For(accelerator).Get<GemmArgs>(typeof(SharedMmaTests), nameof(GemmKernel),
            HostTensors.ElementOps(type), transposeA ? typeof(Transposed) : typeof(Plain),
            transposeB ? typeof(Transposed) : typeof(Plain), aInRegisters ? typeof(ARegisters) : typeof(ASharedSteps));
        kernel.Launch(accelerator.DefaultStream,
            new KernelConfig(new Index3D(1, 1, 1), new Index3D(Warps * 32, 1, 1),
                SharedMemoryConfig.RequestDynamic<Chunk16>(2 * Size * ChunksPerRow)),
            new GemmArgs(aBuffer.View.AsContiguous().Cast<Chunk16>(), bBuffer.View.AsContiguous().Cast<Chunk16>(), cBuffer.View));
        var c = HostTensors.FromInterleaved(cBuffer.GetAsArray1D());

        for (int m = 0; m < Size; m++)
        {
            for (int n = 0; n < Size; n++)
            {
                double sum = 0, magnitude = 0;
                for (int k = 0; k < Size; k++)
                {
                    double product = HostTensors.Widen(a[m * Size + k], type) * HostTensors.Widen(b[k * Size + n], type);
                    sum += product;
                    magnitude += Math.Abs(product);
                }
                Assert.True(Math.Abs(c[m * Size + n] - sum) <= RelativeTolerance * magnitude,
                    $"C[{m},{n}]: expected {sum}, got {c[m * Size + n]}");
            }
        }
    }
}
