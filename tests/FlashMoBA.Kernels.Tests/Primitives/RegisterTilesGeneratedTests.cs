using FlashMoBA.TileGen;

namespace FlashMoBA.Kernels.Tests.Primitives;

public sealed class RegisterTilesGeneratedTests
{
    [Fact]
    public void CheckedInRegisterTiles_EqualGeneratorOutput()
    {
        string root = Program.FindRepositoryRoot(AppContext.BaseDirectory);
        string checkedIn = File.ReadAllText(Path.Combine(root, Program.OutputPath));
        Assert.True(checkedIn == RegisterTileGenerator.Generate(),
            $"{Program.OutputPath} is stale: run `dotnet run --project tools/FlashMoBA.TileGen`.");
    }
}
