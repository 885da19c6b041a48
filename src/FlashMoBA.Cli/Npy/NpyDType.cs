namespace FlashMoBA.Cli.Npy;

/// <summary>Element types the .npy reader and writer handle.</summary>
internal enum NpyDType
{
    /// <summary>numpy float16 ('&lt;f2').</summary>
    Float16,

    /// <summary>numpy float32 ('&lt;f4').</summary>
    Float32,

    /// <summary>numpy float64 ('&lt;f8'), read so it can be rejected with a clear message or converted where allowed.</summary>
    Float64,

    /// <summary>numpy int32 ('&lt;i4').</summary>
    Int32,

    /// <summary>numpy int64 ('&lt;i8'), numpy's default integer.</summary>
    Int64,
}

/// <summary>Descriptor strings and sizes of <see cref="NpyDType"/>.</summary>
internal static class NpyDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this NpyDType type) => type switch
    {
        NpyDType.Float16 => 2,
        NpyDType.Float32 or NpyDType.Int32 => 4,
        _ => 8,
    };

    /// <summary>numpy's name: "float16", "int32", ...</summary>
    public static string NumpyName(this NpyDType type) => type.ToString().ToLowerInvariant();

    /// <summary>The little-endian descriptor written to headers, e.g. "&lt;f2".</summary>
    public static string Descriptor(this NpyDType type) => type switch
    {
        NpyDType.Float16 => "<f2",
        NpyDType.Float32 => "<f4",
        NpyDType.Float64 => "<f8",
        NpyDType.Int32 => "<i4",
        _ => "<i8",
    };

    /// <summary>Parses a descriptor; returns whether its bytes are big-endian.</summary>
    /// <exception cref="NpyFormatException">The descriptor is not one of the supported types.</exception>
    public static NpyDType Parse(string descr, out bool bigEndian)
    {
        if (descr.Length != 3 || "<>=|".IndexOf(descr[0], StringComparison.Ordinal) < 0)
            throw new NpyFormatException($"dtype '{descr}' is not supported (supported: float16, float32, float64, int32, int64)");
        bigEndian = descr[0] == '>' || (descr[0] == '=' && !BitConverter.IsLittleEndian);
        return descr[1..] switch
        {
            "f2" => NpyDType.Float16,
            "f4" => NpyDType.Float32,
            "f8" => NpyDType.Float64,
            "i4" => NpyDType.Int32,
            "i8" => NpyDType.Int64,
            _ => throw new NpyFormatException($"dtype '{descr}' is not supported (supported: float16, float32, float64, int32, int64)"),
        };
    }
}
