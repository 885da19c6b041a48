using System.Text.Json;
using FlashMoBA.Cli.Bench;
using FlashMoBA.Cli.Commands;
using FlashMoBA.Cli.Devices;
using FlashMoBA.Cli.Tests.Infrastructure;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA.Cli.Tests.Bench;

public sealed class BenchCommandTests
{
    /// <summary>A target that runs a real (tiny) ILGPU kernel over a buffer sized by the shape.</summary>
    private sealed class ScaleTarget(string name, int maxSeqlen = int.MaxValue) : IBenchTarget
    {
        public string Name => name;

        public List<BenchShape> Prepared { get; } = [];

        public bool Supports(BenchPass pass) => true;

        public double Flops(BenchShape shape, BenchPass pass) => shape.QElements;

        public IBenchInstance Prepare(BenchContext context, BenchShape shape, BenchPass pass)
        {
            if (shape.Seqlen > maxSeqlen) throw new OutOfMemoryException("pretend the device is full");
            Prepared.Add(shape);
            return new Instance(context.Accelerator, (int)shape.QElements);
        }

        private sealed class Instance : IBenchInstance
        {
            private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer;
            private readonly Action<Index1D, ArrayView<float>> _kernel;

            public Instance(Accelerator accelerator, int length)
            {
                _buffer = accelerator.Allocate1D<float>(length);
                _buffer.MemSetToZero();
                _kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>>(Scale);
            }

            public void Run() => _kernel((int)_buffer.Length, _buffer.View);

            public void Dispose() => _buffer.Dispose();

            private static void Scale(Index1D i, ArrayView<float> data) => data[i] = data[i] * 0.5f + 1f;
        }
    }

    private static (int Exit, string Out, string Err) Execute(BenchOptions options, params IBenchTarget[] targets)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = new BenchCommand(options, stdout, stderr)
        {
            Targets = targets.ToDictionary(t => t.Name),
            InteractiveProgress = false,
            CommandText = "flashmoba bench (test)",
        }.Execute();
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static BenchOptions Tiny(string folder) => new()
    {
        Device = DeviceChoice.Cpu,
        Seqlens = [64, 128],
        Repeats = 2,
        Warmup = 1,
        Json = Path.Combine(folder, "bench.json"),
        Csv = Path.Combine(folder, "bench.csv"),
        Plot = Path.Combine(folder, "bench.svg"),
    };

    [Fact]
    public void JsonOnCpu_WritesTheDocumentedFields()
    {
        using var folder = new TempFolder();
        var (exit, output, err) = Execute(Tiny(folder.Path), new ScaleTarget("moba"), new ScaleTarget("dense"));

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("bench on the CPU", output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File("bench.json")));
        var root = json.RootElement;
        foreach (string field in new[] { "date", "command", "device", "mode", "subjectName", "baselineName", "batch", "heads", "headsKv", "headDim", "dType", "causal", "blockSize", "topK", "warmup", "repeats", "rows" })
            Assert.True(root.TryGetProperty(field, out _), $"missing {field}");
        Assert.Equal("fwd", root.GetProperty("mode").GetString());
        Assert.Equal(2, root.GetProperty("repeats").GetInt32());
        var rows = root.GetProperty("rows");
        Assert.Equal(2, rows.GetArrayLength());
        var row = rows[1];
        Assert.Equal(128, row.GetProperty("seqlen").GetInt32());
        foreach (string field in new[] { "subject", "baseline", "subjectFlops", "peakDeviceBytes", "baselinePeakDeviceBytes", "note", "speedup", "memoryRatio", "tflops" })
            Assert.True(row.TryGetProperty(field, out _), $"missing rows[].{field}");
        var subject = row.GetProperty("subject");
        foreach (string field in new[] { "medianMs", "minMs", "maxMs", "meanMs", "samplesMs" })
            Assert.True(subject.TryGetProperty(field, out _), $"missing subject.{field}");
        Assert.Equal(2, subject.GetProperty("samplesMs").GetArrayLength());
        Assert.True(subject.GetProperty("medianMs").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Number, row.GetProperty("speedup").ValueKind);
        Assert.Contains("bench: [", err, StringComparison.Ordinal); // progress on stderr
    }

    [Fact]
    public void CsvAndPlot_AreWritten()
    {
        using var folder = new TempFolder();
        Execute(Tiny(folder.Path), new ScaleTarget("moba"), new ScaleTarget("dense"));

        var lines = File.ReadAllLines(folder.File("bench.csv"));
        Assert.Equal(string.Join(',', BenchFiles.CsvColumns), lines[0]);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("64,", lines[1], StringComparison.Ordinal);
        string svg = File.ReadAllText(folder.File("bench.svg"));
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Equal(2, svg.Split("<polyline").Length - 1);
        Assert.Contains("log scale", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void Table_HasTheDocumentedColumns()
    {
        using var folder = new TempFolder();
        var (_, output, _) = Execute(Tiny(folder.Path), new ScaleTarget("moba"), new ScaleTarget("dense"));
        string header = output.Split('\n').First(l => l.StartsWith("N ", StringComparison.Ordinal));
        foreach (string column in new[] { "moba fwd ms", "dense fwd ms", "speedup", "TFLOP/s", "peak mem", "dense mem", "mem ×dense" })
            Assert.Contains(column, header, StringComparison.Ordinal);
    }

    /// <summary>The CPU has no memory counter, so the memory columns are checked on a report with known peaks.</summary>
    [Fact]
    public void MemoryColumns_ShowBothPeaksAndTheirRatio()
    {
        var timing = TimingStats.From([2.0, 2.0]);
        var report = new BenchReport("2026-11-28T00:00:00Z", "flashmoba bench", "test", "fwd", "moba fwd", "dense fwd",
            2, 16, 16, 128, "fp16", true, 128, 8, 1, 2,
        [
            new BenchRow(8192, timing, timing, 1e9, 3L << 29, 1L << 30, ""),
            new BenchRow(16384, timing, null, 1e9, 1L << 30, null, "dense skipped"),
        ]);

        using var writer = new StringWriter();
        BenchTable.Write(writer, report);
        string[] lines = writer.ToString().Split('\n');
        string first = lines.First(l => l.StartsWith("8K", StringComparison.Ordinal));
        Assert.Contains("1.50 GiB", first, StringComparison.Ordinal);
        Assert.Contains("1.00 GiB", first, StringComparison.Ordinal);
        Assert.Contains("1.50x", first, StringComparison.Ordinal);
        Assert.Equal(1.5, report.Rows[0].MemoryRatio);
        Assert.Null(report.Rows[1].MemoryRatio);

        string[] csv = BenchFiles.ToCsv(report).Split('\n');
        string[] columns = csv[0].TrimEnd('\r').Split(',');
        string[] cells = csv[1].TrimEnd('\r').Split(',');
        Assert.Equal((3L << 29).ToString(System.Globalization.CultureInfo.InvariantCulture), cells[Array.IndexOf(columns, "peak_device_bytes")]);
        Assert.Equal((1L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture), cells[Array.IndexOf(columns, "baseline_peak_device_bytes")]);
        Assert.Equal("1.5", cells[Array.IndexOf(columns, "memory_ratio")]);

        using var json = JsonDocument.Parse(BenchFiles.ToJson(report));
        var row = json.RootElement.GetProperty("rows")[0];
        Assert.Equal(1L << 30, row.GetProperty("baselinePeakDeviceBytes").GetInt64());
        Assert.Equal(1.5, row.GetProperty("memoryRatio").GetDouble());
    }

    [Fact]
    public void SubjectOutOfMemory_StopsTheSweepWithANote()
    {
        var moba = new ScaleTarget("moba", maxSeqlen: 64);
        var options = new BenchOptions { Device = DeviceChoice.Cpu, Seqlens = [32, 64, 128, 256], Repeats = 1, Warmup = 0 };

        var (exit, output, _) = Execute(options, moba, new ScaleTarget("dense"));

        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal([32, 64], moba.Prepared.Select(s => s.Seqlen));
        Assert.Contains("out of device memory at N=128", output, StringComparison.Ordinal);
    }

    [Fact]
    public void DenseAboveCutoff_IsSkipped()
    {
        var dense = new ScaleTarget("dense");
        var options = new BenchOptions { Device = DeviceChoice.Cpu, Seqlens = [32, 64], Repeats = 1, Warmup = 0, DenseMaxSeqlen = 32 };

        var (_, output, _) = Execute(options, new ScaleTarget("moba"), dense);

        Assert.Equal([32], dense.Prepared.Select(s => s.Seqlen));
        Assert.Contains("skipped above --dense-max-seqlen", output, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeFlags_ReachTheTarget()
    {
        var moba = new ScaleTarget("moba");
        var options = new BenchOptions
        {
            Device = DeviceChoice.Cpu, Seqlens = [48], Batch = 3, Heads = 4, HeadsKv = 2, HeadDim = 128, BlockSize = 64, TopK = 5,
            DType = DTypeChoice.Bf16, NonCausal = true, Repeats = 1, Warmup = 0, HeadChunk = 2,
        };

        Execute(options, moba);

        Assert.Equal(new BenchShape(3, 48, 4, 2, 128, 64, 5, false, ElementType.BFloat16, 1, 2), moba.Prepared.Single());
        Assert.Equal(2, moba.Prepared.Single().Config.HeadChunk);
    }

    [Fact]
    public void DoublingSweep_FromMinToMax()
    {
        var moba = new ScaleTarget("moba");
        Execute(new BenchOptions { Device = DeviceChoice.Cpu, MinSeqlen = 32, MaxSeqlen = 256, Repeats = 1, Warmup = 0 }, moba);
        Assert.Equal([32, 64, 128, 256], moba.Prepared.Select(s => s.Seqlen));
    }

    [Fact]
    public void MissingSubjectTarget_IsABadArgument()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var command = new BenchCommand(new BenchOptions { Device = DeviceChoice.Cpu, Mode = BenchMode.Router }, stdout, stderr)
        {
            Targets = new Dictionary<string, IBenchTarget>(),
        };
        var ex = Assert.Throws<UsageException>(() => command.Execute());
        Assert.Contains("'router'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--repeats", "0", "--repeats must be >= 1")]
    [InlineData("--warmup", "-1", "--warmup must be >= 0")]
    [InlineData("--head-dim", "80", "supported: 64, 128")]
    [InlineData("--top-k", "0", "--top-k")]
    [InlineData("--head-chunk", "0", "--head-chunk 0 must be >= 1")]
    public void BadValues_ExitTwo(string flag, string value, string reason)
    {
        var (exit, _, err) = CliHost.Run("bench", "--device", "cpu", "--mode", "dense", flag, value);
        Assert.Equal(ExitCodes.BadArguments, exit);
        Assert.Contains(reason, err, StringComparison.Ordinal);
    }
}
