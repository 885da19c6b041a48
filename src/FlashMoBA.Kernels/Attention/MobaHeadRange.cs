using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Primitives;

namespace FlashMoBA.Kernels.Attention;

/// <summary>
/// The query heads <c>[First, First + Count)</c> one launch of the MoBA attention passes works on (head
/// chunking, see <see cref="MobaHeadChunking"/>). Global tensors (q, k, v, output, LSE, routing plan) keep
/// their full head count; only the fp32 accumulator and the per-slot statistics are sized for the chunk,
/// as <c>[totalQ, Count, …]</c>, so a (row, head) pair has a global index <c>row · H + head</c> and a chunk
/// index <c>row · Count + head − First</c>.
/// </summary>
internal readonly struct MobaHeadRange(int first, int count)
{
    /// <summary>First query head of the chunk.</summary>
    public readonly int First = first;

    /// <summary>Query heads in the chunk.</summary>
    public readonly int Count = count;

    /// <summary>Chunk index of (query row <paramref name="row"/>, query head <paramref name="head"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Pair(int row, int head) => row * Count + head - First;

    /// <summary>
    /// The fp32 element of the chunk's accumulator <c>[totalQ, Count, d]</c> that holds column
    /// <paramref name="column"/> of the gathered row whose q starts at 16-byte chunk <paramref name="firstChunk"/>
    /// of <c>[totalQ, <paramref name="heads"/>, d]</c>; −1 for a padding row (firstChunk &lt; 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long AccumulatorElement(int firstChunk, int chunksPerRow, int heads, int column)
    {
        if (firstChunk < 0) return -1;
        int pair = firstChunk / chunksPerRow;
        int row = pair / heads;
        return (long)Pair(row, pair - row * heads) * chunksPerRow * Chunk16.Elements + column;
    }
}
