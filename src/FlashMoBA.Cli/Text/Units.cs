using System.Globalization;

namespace FlashMoBA.Cli.Text;

/// <summary>Invariant-culture formatting of sizes and numbers for tables and files.</summary>
internal static class Units
{
    /// <summary>Bytes as GiB/MiB/KiB with two decimals, e.g. "139.81 GiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? $"{bytes} B"
            : value.ToString("F2", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    /// <summary>A number in invariant culture with the given format.</summary>
    public static string Num(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Sequence length with a K/M suffix when it is a whole multiple of 1024: 8192 → "8K".</summary>
    public static string Tokens(int n) =>
        n >= 1 << 20 && n % (1 << 20) == 0 ? $"{n >> 20}M"
        : n >= 1024 && n % 1024 == 0 ? $"{n >> 10}K"
        : n.ToString(CultureInfo.InvariantCulture);
}
