using System.Buffers.Binary;
using System.Text;
using FlashMoBA.Cli.Npy;

namespace FlashMoBA.Cli.Tests.Npy;

public sealed class NpyFileTests
{
    private static NpyArray RoundTrip(NpyArray array)
    {
        using var stream = new MemoryStream();
        NpyFile.Write(stream, array);
        Assert.Equal(0, (stream.Length - array.Data.Length) % 64); // header padded to 64 bytes like numpy
        stream.Position = 0;
        return NpyFile.Read(stream);
    }

    /// <summary>Raw .npy bytes with a hand-written header dictionary (version major.0), padded with spaces.</summary>
    private static byte[] Raw(string dict, byte[] data, byte major = 1, bool pad = true)
    {
        int prefix = major == 1 ? 10 : 12;
        string header = dict;
        if (pad) header += new string(' ', (64 - (prefix + dict.Length + 1) % 64) % 64);
        header += "\n";
        byte[] headerBytes = major == 3 ? Encoding.UTF8.GetBytes(header) : Encoding.Latin1.GetBytes(header);
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        if (major == 1)
        {
            var len = new byte[2];
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)headerBytes.Length);
            stream.Write(len);
        }
        else
        {
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)headerBytes.Length);
            stream.Write(len);
        }
        stream.Write(headerBytes);
        stream.Write(data);
        return stream.ToArray();
    }

    private static NpyArray ReadBytes(byte[] bytes) => NpyFile.Read(new MemoryStream(bytes));

    private static byte[] FloatBytes(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }

    [Fact]
    public void RoundTrip_Float16_3D()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 2 * 3 * 4).Select(_ => (Half)(random.NextDouble() * 10 - 5)).ToArray();
        var back = RoundTrip(NpyArray.From(values, 2, 3, 4));
        Assert.Equal(NpyDType.Float16, back.DType);
        Assert.Equal([2, 3, 4], back.Shape);
        Assert.Equal(values, back.ToFloat16());
    }

    [Fact]
    public void RoundTrip_Float32_4D()
    {
        var random = new Random(4);
        var values = Enumerable.Range(0, 2 * 5 * 3 * 2).Select(_ => (float)random.NextDouble()).ToArray();
        var back = RoundTrip(NpyArray.From(values, 2, 5, 3, 2));
        Assert.Equal([2, 5, 3, 2], back.Shape);
        Assert.Equal(values, back.ToFloat32());
    }

    [Fact]
    public void RoundTrip_Int32_1D_KeepsTrailingCommaShape()
    {
        int[] values = [0, 5, 5, 12, -3];
        using var stream = new MemoryStream();
        NpyFile.Write(stream, NpyArray.From(values, 5));
        string header = Encoding.Latin1.GetString(stream.ToArray(), 10, 60);
        Assert.Contains("'shape': (5,)", header, StringComparison.Ordinal);
        stream.Position = 0;
        Assert.Equal(values, NpyFile.Read(stream).ToInt32());
    }

    [Fact]
    public void RoundTrip_ScalarAndEmpty()
    {
        Assert.Equal([7.5f], RoundTrip(NpyArray.From([7.5f])).ToFloat32());
        var empty = RoundTrip(NpyArray.From(ReadOnlySpan<float>.Empty, 0, 3));
        Assert.Equal([0, 3], empty.Shape);
        Assert.Empty(empty.ToFloat32());
    }

    [Fact]
    public void RoundTrip_ThroughFile_IsAtomicAndReadable()
    {
        string path = Path.Combine(Path.GetTempPath(), $"npy-{Guid.NewGuid():N}.npy");
        try
        {
            NpyFile.Write(path, NpyArray.From([1f, 2f, 3f], 3));
            Assert.Equal([1f, 2f, 3f], NpyFile.Read(path).ToFloat32());
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(path) + ".tmp-*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static TheoryData<string, byte> HeaderVariants => new()
    {
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 1 },
        { "{'descr':'<f4','fortran_order':False,'shape':(2,2)}", 1 },
        { "{\"shape\": (2, 2), \"fortran_order\": False, \"descr\": \"<f4\"}", 1 },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L), }", 1 },
        { "{ 'fortran_order' : False , 'descr' : '<f4' , 'shape' : ( 2 , 2 , ) , }", 1 },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 2 },
        { "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 3 },
    };

    [Theory]
    [MemberData(nameof(HeaderVariants))]
    public void Read_HeaderVariants_Accepted(string dict, byte major)
    {
        var array = ReadBytes(Raw(dict, FloatBytes(1, 2, 3, 4), major));
        Assert.Equal([2, 2], array.Shape);
        Assert.Equal([1f, 2f, 3f, 4f], array.ToFloat32());
    }

    [Fact]
    public void Read_UnpaddedHeader_Accepted() =>
        Assert.Equal([1f, 2f], ReadBytes(Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", FloatBytes(1, 2), pad: false)).ToFloat32());

    [Fact]
    public void Read_BigEndian_IsSwapped()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(4), -2f);
        Assert.Equal([1.5f, -2f], ReadBytes(Raw("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data)).ToFloat32());
    }

    [Fact]
    public void Read_Int64_ConvertsToInt32()
    {
        var data = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(data, 0);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), 9);
        Assert.Equal([0, 9], ReadBytes(Raw("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", data)).ToInt32());
    }

    [Fact]
    public void Read_FortranOrder_RejectedWithMessage()
    {
        var ex = Assert.Throws<NpyFormatException>(() =>
            ReadBytes(Raw("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", FloatBytes(1, 2, 3, 4))));
        Assert.Contains("fortran_order=True", ex.Message, StringComparison.Ordinal);
        Assert.Contains("np.ascontiguousarray", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FortranOrderVector_SameLayout_Accepted() =>
        Assert.Equal([1f, 2f], ReadBytes(Raw("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", FloatBytes(1, 2))).ToFloat32());

    [Fact]
    public void Read_TruncatedData_Rejected()
    {
        var ex = Assert.Throws<NpyFormatException>(() =>
            ReadBytes(Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", FloatBytes(1, 2, 3, 4, 5))));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("needs 24 data bytes but the file has 20", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedHeader_Rejected()
    {
        byte[] full = Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", FloatBytes(1, 2));
        var ex = Assert.Throws<NpyFormatException>(() => ReadBytes(full[..30]));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TrailingBytes_Rejected()
    {
        var ex = Assert.Throws<NpyFormatException>(() =>
            ReadBytes(Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", FloatBytes(1, 2))));
        Assert.Contains("unexpected bytes after", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 3 })]
    [InlineData(new byte[] { (byte)'P', (byte)'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[0])]
    public void Read_NotNpy_Rejected(byte[] bytes)
    {
        var ex = Assert.Throws<NpyFormatException>(() => ReadBytes(bytes));
        Assert.Contains("not a .npy file", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "not supported")]
    [InlineData("{'descr': '<f4', 'shape': (1,), }", "must contain the keys")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected or repeated key 'extra'")]
    [InlineData("{'descr': '<f4', 'fortran_order': maybe, 'shape': (1,), }", "expected True or False")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "non-negative integer")]
    [InlineData("['descr', '<f4']", "expected '{'")]
    public void Read_BadHeader_Rejected(string dict, string message)
    {
        var ex = Assert.Throws<NpyFormatException>(() => ReadBytes(Raw(dict, FloatBytes(1))));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnsupportedVersion_Rejected()
    {
        byte[] bytes = Raw("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", FloatBytes(1));
        bytes[6] = 4;
        var ex = Assert.Throws<NpyFormatException>(() => ReadBytes(bytes));
        Assert.Contains("version 4.0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_FromPath_PrefixesMessageWithPath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.npy");
        File.WriteAllText(path, "hello");
        try
        {
            var ex = Assert.Throws<NpyFormatException>(() => NpyFile.Read(path));
            Assert.StartsWith(path + ": not a .npy file", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ToInt32_OnFloat_Rejected() =>
        Assert.Throws<NpyFormatException>(() => NpyArray.From([1f], 1).ToInt32());

    [Fact]
    public void ToInt32_Int64OutOfRange_Rejected()
    {
        var data = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(data, 1L << 40);
        var array = new NpyArray(NpyDType.Int64, [1], data);
        Assert.Throws<NpyFormatException>(array.ToInt32);
    }
}
