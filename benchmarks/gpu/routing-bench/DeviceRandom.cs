using FlashMoBA.Kernels.Primitives;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.RoutingBench;

/// <summary>
/// Fills a 16-bit tensor on the device with approximately Normal(0, 1) values (Irwin–Hall sum of four
/// hashed bytes), so benchmark inputs of billions of elements need no host generation or upload.
/// </summary>
internal static class DeviceRandom
{
    private const int Threads = 256;
    private const int Groups = 132 * 16;

    internal readonly struct Args(ArrayView<uint> target, uint seed)
    {
        public readonly ArrayView<uint> Target = target;
        public readonly uint Seed = seed;
    }

    internal static void Kernel<TElem>(Args args)
        where TElem : struct, IElementOps
    {
        var ops = default(TElem);
        long stride = (long)Grid.DimX * Group.DimX;
        for (long pair = Grid.GlobalIndex.X; pair < args.Target.Length; pair += stride)
        {
            uint h = Hash((uint)pair ^ Hash((uint)(pair >> 32) + args.Seed));
            args.Target[pair] = ops.Pack(Normal(h), Normal(Hash(h)));
        }
    }

    /// <summary>Fills <paramref name="target"/> (packed pairs) with <typeparamref name="TElem"/> values.</summary>
    public static void Fill<TElem>(Accelerator accelerator, ArrayView<uint> target, uint seed)
        where TElem : struct, IElementOps
    {
        KernelCache.For(accelerator).Get<Args>(typeof(DeviceRandom), nameof(Kernel), typeof(TElem))
            .Launch(accelerator.DefaultStream, new KernelConfig(Groups, Threads), new Args(target, seed));
    }

    private static uint Hash(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    private static float Normal(uint h)
    {
        // Four uniform bytes: mean 510, standard deviation sqrt(4 · (256² − 1) / 12) ≈ 147.8.
        float sum = (h & 0xFF) + ((h >> 8) & 0xFF) + ((h >> 16) & 0xFF) + (h >> 24);
        return (sum - 510f) * (1f / 147.8f);
    }
}
