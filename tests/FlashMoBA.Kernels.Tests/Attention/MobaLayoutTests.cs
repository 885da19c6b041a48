using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Tests.Attention;

/// <summary>The tile constants' invariants (C# has no static asserts) and the CTA launch order.</summary>
public sealed class MobaLayoutTests
{
    /// <summary>The H200's opt-in limit of dynamic shared memory per CTA.</summary>
    private const int SharedLimitBytes = 227 * 1024;

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void SharedMemory_FitsTheOptInLimit_AndTwoForwardOutputCtasPerSm(int headDim)
    {
        int stats = MobaForwardLayout.SharedChunks(headDim, withValues: false) * 16;
        int output = MobaForwardLayout.SharedChunks(headDim, withValues: true) * 16;
        int backward = MobaBackwardLayout.SharedChunks(headDim) * 16;
        Assert.InRange(stats, 1, SharedLimitBytes / 4);
        Assert.InRange(output, 1, SharedLimitBytes / 2);
        Assert.InRange(backward, 1, SharedLimitBytes);
    }

    [Fact]
    public void TileConstants_AreWholeMmaTiles()
    {
        Assert.Equal(0, MobaForward.BlockM % 16);
        Assert.Equal(MobaForward.Warps * 16, MobaForward.BlockM);
        Assert.Equal(0, MobaForward.ResidentKeys % MobaForward.KeyTile);
        Assert.Equal(64, MobaForward.KeyTile);   // one Acc16x64F32 score tile per warp
        Assert.Equal(MobaBackward.RowSlabs * 16, MobaBackward.BlockM);
        Assert.Equal(2 * MobaBackward.RowSlabs, MobaBackward.Warps);  // two column halves per slab
        Assert.Equal(64, MobaBackward.KeyTile);  // 8 chunks per P/dS row: a swizzled SharedTile
        Assert.Equal(0, MobaBackward.KeyTile % 32);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(128)]
    public void BackwardStaging_HoldsAWholeQueryTilePerThread(int headDim)
    {
        int chunks = MobaBackward.BlockM * headDim / Chunk16.Elements;
        Assert.True(chunks <= TileStage.ChunksPerThread * MobaBackward.Threads,
            $"{chunks} chunks of q per tile exceed {TileStage.ChunksPerThread} per thread × {MobaBackward.Threads} threads");
    }

    [Fact]
    public void LaunchOrder_TakesEveryBlockOnce_LowestLocalIndexFirst()
    {
        int[] cuBlocks = [0, 5, 5, 7, 15];   // sequences of 5, 0, 2 and 8 blocks
        int[] order = MobaLaunchOrder.Build(cuBlocks);

        Assert.Equal(Enumerable.Range(0, 15), order.Order());
        int[] localIndex = order.Select(block => block - cuBlocks[Array.FindLastIndex(cuBlocks, c => c <= block)]).ToArray();
        Assert.Equal(localIndex.Order(), localIndex);
    }
}
