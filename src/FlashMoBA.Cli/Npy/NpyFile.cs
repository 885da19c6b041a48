using System.Buffers.Binary;
using System.Text;

namespace FlashMoBA.Cli.Npy;

/// <summary>
/// Reads and writes NumPy .npy files (format versions 1.0, 2.0 and 3.0): a magic string, a version,
/// a header dictionary padded to a 64-byte boundary, then the raw elements.
/// </summary>
internal static class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Header alignment numpy uses (so the data is aligned for memory mapping).</summary>
    private const int HeaderAlignment = 64;

    /// <summary>Reads a whole file.</summary>
    /// <exception cref="NpyFormatException">The file is not a valid, complete, C-ordered .npy of a supported dtype;
    /// the message starts with the path.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static NpyArray Read(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            return Read(stream);
        }
        catch (NpyFormatException ex)
        {
            throw new NpyFormatException($"{path}: {ex.Message}");
        }
    }

    /// <summary>Reads an array from a stream positioned at the magic string; the stream must end after the data.</summary>
    /// <exception cref="NpyFormatException">The bytes are not a valid, complete, C-ordered .npy of a supported dtype.</exception>
    public static NpyArray Read(Stream stream)
    {
        Span<byte> preamble = stackalloc byte[8];
        if (ReadFully(stream, preamble) < 8 || !preamble[..6].SequenceEqual(Magic))
            throw new NpyFormatException("not a .npy file (it does not start with the \\x93NUMPY magic)");
        byte major = preamble[6];
        int headerLength;
        Encoding encoding;
        switch (major)
        {
            case 1:
                Span<byte> len16 = stackalloc byte[2];
                if (ReadFully(stream, len16) < 2) throw Truncated("header length");
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len16);
                encoding = Encoding.Latin1;
                break;
            case 2:
            case 3:
                Span<byte> len32 = stackalloc byte[4];
                if (ReadFully(stream, len32) < 4) throw Truncated("header length");
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(len32);
                if (length > 1 << 20) throw new NpyFormatException($"header length {length} is implausibly large");
                headerLength = (int)length;
                encoding = major == 3 ? Encoding.UTF8 : Encoding.Latin1;
                break;
            default:
                throw new NpyFormatException($"unsupported .npy format version {major}.{preamble[7]} (1.0, 2.0 and 3.0 are supported)");
        }

        var headerBytes = new byte[headerLength];
        if (ReadFully(stream, headerBytes) < headerLength) throw Truncated("header");
        var header = NpyHeader.Parse(encoding.GetString(headerBytes));
        var dtype = NpyDTypes.Parse(header.Descr, out bool bigEndian);
        if (header.FortranOrder && header.Shape.Count(d => d != 1) > 1)
            throw new NpyFormatException(
                $"fortran_order=True (column-major) arrays are not supported; save a C-ordered array, e.g. np.save(path, np.ascontiguousarray(a))");

        long count = NpyArray.ElementCount(header.Shape);
        long bytes = count * dtype.Size();
        if (bytes > Array.MaxLength)
            throw new NpyFormatException($"shape {NpyArray.FormatShape(header.Shape)} of {dtype.NumpyName()} is {bytes} bytes, more than one array can hold");
        var data = new byte[bytes];
        int read = ReadFully(stream, data);
        if (read < bytes)
            throw new NpyFormatException(
                $"truncated: shape {NpyArray.FormatShape(header.Shape)} of {dtype.NumpyName()} needs {bytes} data bytes but the file has {read}");
        if (stream.ReadByte() >= 0)
            throw new NpyFormatException($"unexpected bytes after the {bytes} data bytes of shape {NpyArray.FormatShape(header.Shape)}");
        if (bigEndian) SwapBytes(data, dtype.Size());
        return new NpyArray(dtype, header.Shape, data);
    }

    /// <summary>Writes a file atomically: the data goes to a temporary file in the same folder that is then renamed.</summary>
    public static void Write(string path, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        string full = Path.GetFullPath(path);
        string temp = full + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = File.Create(temp))
            {
                Write(stream, array);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes format version 1.0 (2.0 if the header would not fit in 65535 bytes).</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        string dict = new NpyHeader(array.DType.Descriptor(), false, array.Shape).Format();
        bool version2 = dict.Length + 11 > ushort.MaxValue;
        int prefix = Magic.Length + 2 + (version2 ? 4 : 2);
        int padded = (prefix + dict.Length + 1 + HeaderAlignment - 1) / HeaderAlignment * HeaderAlignment;
        string header = dict + new string(' ', padded - prefix - dict.Length - 1) + "\n";

        stream.Write(Magic);
        stream.WriteByte(version2 ? (byte)2 : (byte)1);
        stream.WriteByte(0);
        Span<byte> length = stackalloc byte[4];
        if (version2)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
            stream.Write(length);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
            stream.Write(length[..2]);
        }
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(array.Data);
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static NpyFormatException Truncated(string what) => new($"truncated: the file ends inside the {what}");

    private static void SwapBytes(byte[] data, int size)
    {
        for (int i = 0; i < data.Length; i += size) data.AsSpan(i, size).Reverse();
    }
}
