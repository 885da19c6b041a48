namespace FlashMoBA.Cli.Npy;

/// <summary>A file is not a readable .npy array (bad magic, header, dtype, order, or truncated data).</summary>
internal sealed class NpyFormatException(string message) : Exception(message);
