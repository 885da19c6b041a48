namespace FlashMoBA.Cli.Commands;

/// <summary>Storage type on the command line (<c>--dtype</c>).</summary>
internal enum DTypeChoice
{
    /// <summary>IEEE half precision.</summary>
    Fp16,

    /// <summary>bfloat16.</summary>
    Bf16,
}

/// <summary>Maps <see cref="DTypeChoice"/> to the library's element type.</summary>
internal static class DTypeChoiceExtensions
{
    /// <summary>The library element type.</summary>
    public static ElementType ToElementType(this DTypeChoice choice) =>
        choice == DTypeChoice.Bf16 ? ElementType.BFloat16 : ElementType.Float16;

    /// <summary>Short name: "fp16" or "bf16".</summary>
    public static string ShortName(this ElementType type) => type == ElementType.BFloat16 ? "bf16" : "fp16";
}
