using System.Runtime.InteropServices;

namespace FlashMoBA.Kernels.Primitives;

/// <summary>
/// 16 bytes = 8 fp16/bf16 values, the unit of every global⇄shared copy. ILGPU emits
/// <c>ld.global.v4</c> / <c>st.shared.v4</c> for it because its size is a power of two (DESIGN.md §5).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 16)]
internal struct Chunk16
{
    /// <summary>Elements 0 and 1.</summary>
    public uint X;

    /// <summary>Elements 2 and 3.</summary>
    public uint Y;

    /// <summary>Elements 4 and 5.</summary>
    public uint Z;

    /// <summary>Elements 6 and 7.</summary>
    public uint W;

    /// <summary>Elements per chunk.</summary>
    public const int Elements = 8;
}
