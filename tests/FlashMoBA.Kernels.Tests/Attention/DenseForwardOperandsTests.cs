using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>
/// The dense forward's key and value operands (lane offsets computed once per tile) address exactly what
/// <see cref="TransposedTileB"/> and <see cref="TileB"/> address, through the ldmatrix path the GPU runs, at
/// every (n0, k0) step of d = 64 and d = 128 tiles that do not start at offset 0 (a second stage).
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class DenseForwardOperandsTests(AcceleratorFixture fixture)
{
    /// <summary>Rows of each tile (a key/value tile), stages (the second one is checked).</summary>
    private const int Rows = 64, Stages = 2;

    internal readonly struct OperandArgs(ArrayView<Chunk16> tiles, ArrayView<uint> loaded, int chunksPerRow)
    {
        /// <summary>Two stages of a [Rows][d] tile.</summary>
        public readonly ArrayView<Chunk16> Tiles = tiles;

        /// <summary>Per step and lane: 4 words from the dense operand, then 4 from the shared-tile operand.</summary>
        public readonly ArrayView<uint> Loaded = loaded;

        /// <summary>d / 8.</summary>
        public readonly int ChunksPerRow = chunksPerRow;
    }

    internal static void OperandKernel(OperandArgs args)
    {
        var shared = SharedMemory.GetDynamic<Chunk16>();
        var words = shared.Cast<uint>();
        int chunksPerRow = args.ChunksPerRow, columns = chunksPerRow * Chunk16.Elements;
        for (int i = Group.IdxX; i < Stages * Rows * chunksPerRow; i += Group.DimX)
            shared[i] = args.Tiles[i];
        Group.Barrier();
        var tile = new SharedTile(Rows * chunksPerRow, chunksPerRow);
        var keys = new DenseKeysOperand(tile);
        var values = new DenseValuesOperand(tile);
        int lane = Warp.LaneIdx, step = 0;
        // Keys: n = key rows (0..63), k = head dim; values: n = head dim, k = value rows.
        for (int n0 = 0; n0 < Rows; n0 += 16)
        {
            for (int k0 = 0; k0 < columns; k0 += 16)
            {
                keys.Load2(words, n0, k0, out var left, out var right);
                new TransposedTileB(tile).Load2(words, n0, k0, out var expectedLeft, out var expectedRight);
                Record(args.Loaded, step++, lane, left, right, expectedLeft, expectedRight);
            }
        }
        for (int n0 = 0; n0 < columns; n0 += 16)
        {
            for (int k0 = 0; k0 < Rows; k0 += 16)
            {
                values.Load2(words, n0, k0, out var left, out var right);
                new TileB(tile).Load2(words, n0, k0, out var expectedLeft, out var expectedRight);
                Record(args.Loaded, step++, lane, left, right, expectedLeft, expectedRight);
            }
        }
    }

    private static void Record(ArrayView<uint> output, int step, int lane, FragB16x8 left, FragB16x8 right,
        FragB16x8 expectedLeft, FragB16x8 expectedRight)
    {
        int at = (step * 32 + lane) * 8;
        output[at] = left.R0;
        output[at + 1] = left.R1;
        output[at + 2] = right.R0;
        output[at + 3] = right.R1;
        output[at + 4] = expectedLeft.R0;
        output[at + 5] = expectedLeft.R1;
        output[at + 6] = expectedRight.R0;
        output[at + 7] = expectedRight.R1;
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void Operands_MatchSharedTileOperands(int headDim)
    {
        var accelerator = fixture.Accelerator;
        int chunksPerRow = headDim / Chunk16.Elements, steps = 2 * (Rows / 16) * (headDim / 16);
        var random = new Random(headDim);
        var values = new uint[Stages * Rows * chunksPerRow * 4];
        for (int i = 0; i < values.Length; i++) values[i] = (uint)random.Next(1, int.MaxValue);
        using var tiles = accelerator.Allocate1D(values);
        using var loaded = accelerator.Allocate1D<uint>(steps * 32 * 8);
        loaded.MemSetToZero();
        KernelCache.For(accelerator).Get<OperandArgs>(typeof(DenseForwardOperandsTests), nameof(OperandKernel)).Launch(
            accelerator.DefaultStream,
            new KernelConfig(new Index3D(1, 1, 1), new Index3D(32, 1, 1),
                SharedMemoryConfig.RequestDynamic<Chunk16>(Stages * Rows * chunksPerRow)),
            new OperandArgs(tiles.View.AsContiguous().Cast<Chunk16>(), loaded.View, chunksPerRow));
        var result = loaded.GetAsArray1D();
        for (int step = 0; step < steps; step++)
        {
            for (int lane = 0; lane < 32; lane++)
            {
                int at = (step * 32 + lane) * 8;
                for (int r = 0; r < 4; r++)
                {
                    Assert.True(result[at + 4 + r] != 0, $"step {step} lane {lane} R{r}: expected value not written");
                    Assert.True(result[at + r] == result[at + 4 + r],
                        $"step {step} lane {lane} R{r}: dense operand 0x{result[at + r]:X8}, shared tile 0x{result[at + 4 + r]:X8}");
                }
            }
        }
    }
}
