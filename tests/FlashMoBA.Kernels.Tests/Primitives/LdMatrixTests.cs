using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Primitives;

/// <summary>
/// The ldmatrix addressing of every shared operand (what the GPU executes) yields exactly the
/// fragment layout that the direct element reads of the CPU emulation assume.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class LdMatrixTests(AcceleratorFixture fixture)
{
    private const int Rows = 32, Chunks = 8, Operands = 4, WordsPerLane = 2 * 4;

    internal readonly struct LoadArgs(ArrayView<Chunk16> tile, ArrayView<uint> loaded)
    {
        /// <summary>A 32×64 tile of 16-bit values.</summary>
        public readonly ArrayView<Chunk16> Tile = tile;

        /// <summary>Per operand and lane: 4 words via ldmatrix, then 4 words from direct reads.</summary>
        public readonly ArrayView<uint> Loaded = loaded;
    }

    internal static void LoadKernel(LoadArgs args)
    {
        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        var tile = new SharedTile(0, Chunks);
        TileCopy.GlobalToShared(args.Tile, 0, Chunks, Rows, shared, tile, Rows, Group.IdxX, Group.DimX);
        Group.Barrier();
        int lane = Warp.LaneIdx, g = lane >> 2, t = lane & 3;
        // Offsets that are multiples of 8 but not of 16 catch swapped matrix halves.
        const int M0 = 8, K0 = 16, N0 = 40;
        Record(args.Loaded, 0, lane, new TileA(tile).Load(words, M0, K0), WarpEmulation.ReadFragment(words, new TileA(tile), M0, K0));
        Record(args.Loaded, 1, lane, new TransposedTileA(tile).Load(words, N0, M0),
            WarpEmulation.ReadFragment(words, new TransposedTileA(tile), N0, M0));
        var tileB = new TileB(tile);
        tileB.Load2(words, N0, K0, out var left, out var right);
        Record(args.Loaded, 2, lane, new FragA16x16 { R0 = left.R0, R1 = left.R1, R2 = right.R0, R3 = right.R1 },
            ExpectedB(words, tileB, N0, K0, g, t));
        var transposedB = new TransposedTileB(tile);
        transposedB.Load2(words, M0, N0, out left, out right);
        Record(args.Loaded, 3, lane, new FragA16x16 { R0 = left.R0, R1 = left.R1, R2 = right.R0, R3 = right.R1 },
            ExpectedB(words, transposedB, M0, N0, g, t));
    }

    private static FragA16x16 ExpectedB<TB>(ArrayView<uint> words, TB b, int n0, int k0, int g, int t)
        where TB : struct, ISharedOperandB
    {
        int k = k0 + 2 * t;
        return new FragA16x16
        {
            R0 = b.Bits(words, k, n0 + g) | (b.Bits(words, k + 1, n0 + g) << 16),
            R1 = b.Bits(words, k + 8, n0 + g) | (b.Bits(words, k + 9, n0 + g) << 16),
            R2 = b.Bits(words, k, n0 + 8 + g) | (b.Bits(words, k + 1, n0 + 8 + g) << 16),
            R3 = b.Bits(words, k + 8, n0 + 8 + g) | (b.Bits(words, k + 9, n0 + 8 + g) << 16),
        };
    }

    private static void Record(ArrayView<uint> output, int operand, int lane, FragA16x16 loaded, FragA16x16 expected)
    {
        int at = (operand * 32 + lane) * WordsPerLane;
        output[at] = loaded.R0;
        output[at + 1] = loaded.R1;
        output[at + 2] = loaded.R2;
        output[at + 3] = loaded.R3;
        output[at + 4] = expected.R0;
        output[at + 5] = expected.R1;
        output[at + 6] = expected.R2;
        output[at + 7] = expected.R3;
    }

    [Fact]
    public void LdMatrixOperands_MatchDirectFragmentLayout() =>
        Check(fixture.Accelerator);

    /// <summary>The check itself, shared with the GPU self-check (benchmarks/gpu/primitives-check).</summary>
    internal static void Check(Accelerator accelerator)
    {
        var random = new Random(5);
        // Distinct values so a misplaced element cannot match by accident.
        var values = Enumerable.Range(0, Rows * Chunks * 8).Select(i => (ushort)(i * 7 + 3)).OrderBy(_ => random.Next()).ToArray();
        using var tile = accelerator.Allocate1D(values);
        using var loaded = accelerator.Allocate1D<uint>(Operands * 32 * WordsPerLane);
        loaded.MemSetToZero();
        KernelCache.For(accelerator).Get<LoadArgs>(typeof(LdMatrixTests), nameof(LoadKernel)).Launch(
            accelerator.DefaultStream,
            new KernelConfig(new Index3D(1, 1, 1), new Index3D(32, 1, 1), SharedMemoryConfig.RequestDynamic<Chunk16>(Rows * Chunks)),
            new LoadArgs(tile.View.AsContiguous().Cast<Chunk16>(), loaded.View));
        var result = loaded.GetAsArray1D();
        string[] names = ["TileA", "TransposedTileA", "TileB", "TransposedTileB"];
        for (int operand = 0; operand < Operands; operand++)
        {
            for (int lane = 0; lane < 32; lane++)
            {
                int at = (operand * 32 + lane) * WordsPerLane;
                for (int r = 0; r < 4; r++)
                {
                    Assert.True(result[at + 4 + r] != 0, $"{names[operand]} lane {lane} R{r}: expected value not written");
                    Assert.True(result[at + r] == result[at + 4 + r],
                        $"{names[operand]} lane {lane} R{r}: ldmatrix 0x{result[at + r]:X8}, layout 0x{result[at + 4 + r]:X8}");
                }
            }
        }
    }
}
