using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Primitives;

/// <summary>
/// <see cref="TileCopy.GlobalToSharedAsync"/> (and so <see cref="AsyncCopy"/>) puts every chunk of a strided
/// global row block where <see cref="SharedTile"/> says and zero-fills rows past the valid ones, in two
/// commit groups (the first waited for with <see cref="AsyncCopy.WaitAllButNewest"/>); and the CUDA path
/// compiles to <c>cp.async</c> PTX.
/// </summary>
[Collection(AcceleratorCollection.Name)]
public sealed class AsyncCopyTests(AcceleratorFixture fixture)
{
    /// <summary>Rows per tile (a multiple of the 8-row swizzle period), chunks per row, global row stride in chunks.</summary>
    private const int Rows = 16, Chunks = 8, Stride = 3 * Chunks, Threads = 32;

    /// <summary>Valid rows of each tile: the second tile is ragged (rows 11..15 must come back as zeros).</summary>
    private const int FirstValid = Rows, SecondValid = 11;

    internal readonly struct CopyArgs(AsyncSource source, ArrayView<Chunk16> copied)
    {
        /// <summary>Global rows: tile 0 at chunk <see cref="Chunks"/>, tile 1 at chunk 2·<see cref="Chunks"/>, every <see cref="Stride"/> chunks.</summary>
        public readonly AsyncSource Source = source;

        /// <summary>Both shared tiles, read back in their swizzled storage order.</summary>
        public readonly ArrayView<Chunk16> Copied = copied;
    }

    internal static void CopyKernel(CopyArgs args)
    {
        var shared = SharedMemory.GetDynamic<Chunk16>();
        var first = new SharedTile(0, Chunks);
        var second = new SharedTile(Rows * Chunks, Chunks);
        int thread = Group.IdxX;
        // Poison the tiles so a chunk that is never written fails the comparison.
        for (int i = thread; i < 2 * Rows * Chunks; i += Threads)
            shared[i] = new Chunk16 { X = 0xDEADBEEF, Y = 0xDEADBEEF, Z = 0xDEADBEEF, W = 0xDEADBEEF };
        Group.Barrier();
        TileCopy.GlobalToSharedAsync(args.Source, Chunks, Stride, FirstValid, shared, first, Rows, thread, Threads);
        AsyncCopy.Commit();
        TileCopy.GlobalToSharedAsync(args.Source, 2 * Chunks, Stride, SecondValid, shared, second, Rows, thread,
            Threads);
        AsyncCopy.Commit();
        AsyncCopy.WaitAllButNewest();
        Group.Barrier();
        for (int i = thread; i < Rows * Chunks; i += Threads)
            args.Copied[i] = shared[i];
        AsyncCopy.WaitAll();
        Group.Barrier();
        for (int i = thread; i < Rows * Chunks; i += Threads)
            args.Copied[Rows * Chunks + i] = shared[Rows * Chunks + i];
    }

    [Fact]
    public void GlobalToSharedAsync_SwizzledRowsAndZeroTail() => Check(fixture.Accelerator);

    [Fact]
    public void CopyKernel_CompilesToCpAsync()
    {
        using var compiler = new OfflinePtx();
        var method = typeof(AsyncCopyTests).GetMethod(nameof(CopyKernel),
            System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
        string ptx = compiler.Compile(method);
        Assert.Contains("cp.async.cg.shared.global", ptx, StringComparison.Ordinal);
        Assert.Contains("cp.async.commit_group;", ptx, StringComparison.Ordinal);
        Assert.Contains("cp.async.wait_group 1;", ptx, StringComparison.Ordinal);
        Assert.Contains("cp.async.wait_group 0;", ptx, StringComparison.Ordinal);
    }

    /// <summary>The check itself, usable on any accelerator.</summary>
    internal static void Check(Accelerator accelerator)
    {
        int globalChunks = 2 * Chunks + Rows * Stride;
        var random = new Random(11);
        var global = new uint[globalChunks * 4];
        for (int i = 0; i < global.Length; i++) global[i] = (uint)random.Next(1, int.MaxValue);
        using var source = accelerator.Allocate1D(global);
        using var copied = accelerator.Allocate1D<uint>(2 * Rows * Chunks * 4);
        copied.MemSetToZero();
        var chunks = source.View.AsContiguous().Cast<Chunk16>();
        KernelCache.For(accelerator).Get<CopyArgs>(typeof(AsyncCopyTests), nameof(CopyKernel)).Launch(
            accelerator.DefaultStream,
            new KernelConfig(new Index3D(1, 1, 1), new Index3D(Threads, 1, 1),
                SharedMemoryConfig.RequestDynamic<Chunk16>(2 * Rows * Chunks)),
            new CopyArgs(new AsyncSource(chunks), copied.View.AsContiguous().Cast<Chunk16>()));
        var result = copied.GetAsArray1D();
        for (int tileIndex = 0; tileIndex < 2; tileIndex++)
        {
            int valid = tileIndex == 0 ? FirstValid : SecondValid;
            var tile = new SharedTile(tileIndex * Rows * Chunks, Chunks);
            for (int row = 0; row < Rows; row++)
            {
                for (int chunk = 0; chunk < Chunks; chunk++)
                {
                    int globalChunk = (tileIndex + 1) * Chunks + row * Stride + chunk;
                    for (int word = 0; word < 4; word++)
                    {
                        uint expected = row < valid ? global[globalChunk * 4 + word] : 0u;
                        uint actual = result[tile.Chunk(row, chunk) * 4 + word];
                        Assert.True(expected == actual,
                            $"tile {tileIndex} row {row} chunk {chunk} word {word}: expected 0x{expected:X8}, got 0x{actual:X8}");
                    }
                }
            }
        }
    }
}
