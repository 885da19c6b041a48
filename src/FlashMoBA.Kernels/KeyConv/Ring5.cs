using System.Runtime.CompilerServices;

namespace FlashMoBA.Kernels.KeyConv;

/// <summary>
/// Five register-resident values addressed by slot. Kernels write their loop body out five times
/// with constant slots (ILGPU does not unroll loops), so after inlining every <see cref="Get"/>
/// and <see cref="Set"/> folds to one register: a sliding window or a prefetch queue then rotates
/// roles instead of moving registers. Moving a register that a pending load targets would stall
/// on that load; rotating keeps five loads in flight per thread.
/// </summary>
internal struct Ring5<T>
    where T : struct
{
    /// <summary>Slots per ring: covers the widest convolution (W = 5) and the prefetch distance.</summary>
    public const int Size = 5;

    private T slot0, slot1, slot2, slot3, slot4;

    /// <summary>The slot <paramref name="back"/> steps before <paramref name="slot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Back(int slot, int back) => (slot - back + Size) % Size;

    /// <summary>The value in <paramref name="slot"/> (0..4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T Get(int slot) => slot switch
    {
        0 => slot0,
        1 => slot1,
        2 => slot2,
        3 => slot3,
        _ => slot4,
    };

    /// <summary>Stores <paramref name="value"/> in <paramref name="slot"/> (0..4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(int slot, T value)
    {
        switch (slot)
        {
            case 0: slot0 = value; break;
            case 1: slot1 = value; break;
            case 2: slot2 = value; break;
            case 3: slot3 = value; break;
            default: slot4 = value; break;
        }
    }
}
