using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Warp-wide L2 prefetch of one row of the backward's two inputs: lanes 0–15 cover the warp's 128-byte
/// strip of k, lanes 16–31 the same strip of dK′, 8 bytes apart. A prefetch has no destination
/// register, so it keeps DRAM requests in flight far ahead of the register ring (whose depth the
/// register budget limits) and leaves the ring's loads hitting L2. On other accelerators it does
/// nothing.
/// </summary>
internal readonly struct L2Prefetch
{
    /// <summary>Bytes one lane's prefetch address stands for: 16 lanes cover a 128-byte strip.</summary>
    private const int BytesPerLane = 8;

    private readonly long laneBase;
    private readonly long rowBytes;

    /// <summary>
    /// The prefetch lane of the warp that owns 64-channel tile <paramref name="tile"/>: its address in row 0
    /// and the row pitch. <see cref="Active"/> is false when the rows are not to be prefetched
    /// (<paramref name="rowsAhead"/> = 0) or the lane's bytes lie past the row (a partial last tile).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public L2Prefetch(long kAddress, long dKPrimeAddress, int groups, int tile, int lane, int rowsAhead)
    {
        int half = Warp.WarpSize / 2;
        long byteInRow = (long)tile * 32 * Interop.SizeOf<PackedHalves2>() + (lane % half) * BytesPerLane;
        rowBytes = (long)groups * Interop.SizeOf<PackedHalves2>();
        laneBase = (lane < half ? kAddress : dKPrimeAddress) + byteInRow;
        RowsAhead = rowsAhead;
        Active = rowsAhead > 0 && byteInRow < rowBytes;
    }

    /// <summary>How many rows ahead of the row being processed the prefetch runs.</summary>
    public int RowsAhead { get; }

    /// <summary>Whether this lane prefetches.</summary>
    public bool Active { get; }

    /// <summary>Prefetches <paramref name="row"/> of both inputs into L2 (this lane's part).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Row(int row)
    {
        switch (Accelerator.CurrentType)
        {
            case AcceleratorType.Cuda:
                if (Active) CudaAsm.Emit("prefetch.global.L2 [%0];", laneBase + row * rowBytes);
                break;
            case AcceleratorType.CPU:
            case AcceleratorType.OpenCL:
            default:
                break;
        }
    }
}
