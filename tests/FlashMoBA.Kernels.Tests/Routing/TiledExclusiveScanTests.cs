using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Kernels.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Kernels.Tests.Routing;

[Collection(AcceleratorCollection.Name)]
public sealed class TiledExclusiveScanTests
{
    private readonly AcceleratorFixture fixture;

    public TiledExclusiveScanTests(AcceleratorFixture fixture) => this.fixture = fixture;

    /// <summary>
    /// Lengths inside one thread's run, ragged tiles, and more tiles than one pass of the middle phase
    /// (257 tiles) so its carry between passes is exercised. Exact integer comparison with a host scan.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(13, 2)]
    [InlineData(TiledExclusiveScan.TileItems, 3)]
    [InlineData(3 * TiledExclusiveScan.TileItems + 1234, 4)]
    [InlineData((TiledExclusiveScan.Threads + 1) * TiledExclusiveScan.TileItems - 77, 5)]
    public void Scan_RandomCounts_EqualsHostPrefixSums(int length, int seed)
    {
        var random = new Random(seed);
        var counts = new int[length];
        for (int i = 0; i < length; i++)
            counts[i] = random.Next(4) == 0 ? 0 : random.Next(1, 40);
        var expected = new int[length];
        for (int i = 1; i < length; i++)
            expected[i] = expected[i - 1] + counts[i - 1];

        var accelerator = fixture.Accelerator;
        using var input = accelerator.Allocate1D(counts);
        using var output = accelerator.Allocate1D<int>(length);
        using var tiles = accelerator.Allocate1D<int>(TiledExclusiveScan.TileElements(length));
        output.View.MemSet(unchecked((byte)0xA5));   // poison: an unwritten prefix cannot pass
        tiles.View.MemSet(unchecked((byte)0xA5));
        TiledExclusiveScan.Launch(KernelCache.For(accelerator), accelerator.DefaultStream, input.View, output.View, tiles.View);
        accelerator.Synchronize();

        Assert.Equal(expected, output.GetAsArray1D());
        Assert.Equal(counts, input.GetAsArray1D());   // the counts are read, never written
    }
}
