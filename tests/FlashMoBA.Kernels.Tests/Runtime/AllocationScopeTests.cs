using FlashMoBA.Kernels.Runtime;

namespace FlashMoBA.Kernels.Tests.Runtime;

public sealed class AllocationScopeTests
{
    private sealed class Resource : IDisposable
    {
        public int Disposals { get; private set; }

        public void Dispose() => Disposals++;
    }

    [Fact]
    public void FailureBeforeRelease_DisposesEverythingTracked()
    {
        var first = new Resource();
        var second = new Resource();
        void AllocateThree()
        {
            using var scope = new AllocationScope();
            scope.Track(first);
            scope.Track(second);
            throw new OutOfMemoryException("third allocation failed");
        }

        Assert.Throws<OutOfMemoryException>(AllocateThree);
        Assert.Equal(1, first.Disposals);
        Assert.Equal(1, second.Disposals);
    }

    [Fact]
    public void Release_HandsOwnershipOver()
    {
        var resource = new Resource();
        string owner;
        using (var scope = new AllocationScope())
        {
            scope.Track(resource);
            owner = scope.Release("owner");
        }
        Assert.Equal("owner", owner);
        Assert.Equal(0, resource.Disposals);
    }
}
