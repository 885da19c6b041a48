using FlashMoBA.Cli.Verify;

namespace FlashMoBA.Cli.Tests.Verify;

public sealed class MobaVerifyFamilyTests
{
    [Fact]
    public void Cases_AddRaggedAndGqaRunOneKvGroupAtATime()
    {
        var sizes = VerifySizes.CudaDefaults;
        var standard = VerifyCases.Standard(sizes).ToList();

        var cases = new MobaVerifyFamily().Cases(sizes).ToList();

        Assert.Equal(standard.Select(c => c.Label), cases.Take(standard.Count).Select(c => c.Label));
        var chunked = cases.Skip(standard.Count).ToList();
        Assert.Equal(standard.Count(c => c.Name is "ragged" or "gqa"), chunked.Count);
        Assert.All(chunked, c =>
        {
            Assert.Equal(c.Heads / c.HeadsKv, c.HeadChunk);
            Assert.Equal(c.HeadChunk, c.Config.HeadChunk);
            Assert.Contains($" chunk{c.HeadChunk} ", c.Label, StringComparison.Ordinal);
        });
        Assert.All(standard, c => Assert.Null(c.Config.HeadChunk));
    }
}
