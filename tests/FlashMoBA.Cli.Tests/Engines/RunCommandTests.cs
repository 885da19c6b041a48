using FlashMoBA.Cli.Npy;
using FlashMoBA.Cli.Tensors;
using FlashMoBA.Cli.Tests.Infrastructure;
using FlashMoBA.Reference;

namespace FlashMoBA.Cli.Tests.Engines;

public sealed class RunCommandTests
{
    private const int Heads = 2, HeadsKv = 1, HeadDim = 64, BlockSize = 16, TopK = 2;
    private static readonly int[] CuSeqlens = [0, 25, 40];

    /// <summary>Writes q, k, v, dOut (values already fp16-representable) and cuSeqlens; returns the exact values.</summary>
    private static (float[] Q, float[] K, float[] V, float[] DOut) WriteInputs(TempFolder folder, int seed = 5)
    {
        var random = new Random(seed);
        float[] Sample(int count) => HostConvert.RoundTo(
            Enumerable.Range(0, count).Select(_ => (float)SampledTensor.StandardNormal(random)).ToArray(), ElementType.Float16);
        int total = CuSeqlens[^1];
        var q = Sample(total * Heads * HeadDim);
        var k = Sample(total * HeadsKv * HeadDim);
        var v = Sample(total * HeadsKv * HeadDim);
        var dOut = Sample(total * Heads * HeadDim);
        NpyFile.Write(folder.File("q.npy"), NpyArray.From(q, total, Heads, HeadDim));
        NpyFile.Write(folder.File("k.npy"), NpyArray.From(HostConvert.ToHalf(k), total, HeadsKv, HeadDim)); // fp16 input too
        NpyFile.Write(folder.File("v.npy"), NpyArray.From(v, total, HeadsKv, HeadDim));
        NpyFile.Write(folder.File("dout.npy"), NpyArray.From(dOut, total, Heads, HeadDim));
        NpyFile.Write(folder.File("cu.npy"), NpyArray.From(CuSeqlens, CuSeqlens.Length));
        return (q, k, v, dOut);
    }

    private static string[] Args(TempFolder folder, params string[] extra) =>
    [
        "run", "-q", folder.File("q.npy"), "-k", folder.File("k.npy"), "-v", folder.File("v.npy"),
        "--cu-seqlens", folder.File("cu.npy"), "--block-size", "16", "--top-k", "2", "--engine", "reference",
        "--out", folder.File("out"), .. extra,
    ];

    [Fact]
    public void ForwardBackward_TinyVarlen_EqualsTheReferenceCall()
    {
        using var folder = new TempFolder();
        var (q, k, v, dOut) = WriteInputs(folder);

        var (exit, output, err) = CliHost.Run(Args(folder, "--dout", folder.File("dout.npy")));

        Assert.True(exit == ExitCodes.Ok, err);
        Assert.Contains("wrote", output, StringComparison.Ordinal);
        var shape = new AttentionShape(CuSeqlens, CuSeqlens, Heads, HeadsKv, HeadDim);
        var forward = MobaReference.Forward(shape, HostConvert.ToDouble(q), HostConvert.ToDouble(k), HostConvert.ToDouble(v), BlockSize, TopK, causal: true);
        var grads = MobaReference.Backward(shape, HostConvert.ToDouble(q), HostConvert.ToDouble(k), HostConvert.ToDouble(v), HostConvert.ToDouble(dOut), BlockSize, TopK, causal: true);

        var outArray = NpyFile.Read(folder.File("out/out.npy"));
        Assert.Equal(NpyDType.Float16, outArray.DType);
        Assert.Equal([40, Heads, HeadDim], outArray.Shape);
        Assert.Equal(HostConvert.ToHalf(HostConvert.ToFloat(forward.Output)), outArray.ToFloat16());
        var lse = NpyFile.Read(folder.File("out/lse.npy"));
        Assert.Equal([Heads, 40], lse.Shape);
        Assert.Equal(HostConvert.ToFloat(forward.Lse), lse.ToFloat32());
        Assert.Equal(HostConvert.ToHalf(HostConvert.ToFloat(grads.DQ)), NpyFile.Read(folder.File("out/dq.npy")).ToFloat16());
        Assert.Equal(HostConvert.ToHalf(HostConvert.ToFloat(grads.DK)), NpyFile.Read(folder.File("out/dk.npy")).ToFloat16());
        Assert.Equal(HostConvert.ToHalf(HostConvert.ToFloat(grads.DV)), NpyFile.Read(folder.File("out/dv.npy")).ToFloat16());
    }

    [Fact]
    public void KernelsEngine_TinyVarlen_EqualsTheLibraryCall()
    {
        using var folder = new TempFolder();
        var (q, k, v, dOut) = WriteInputs(folder);
        var args = Args(folder, "--dout", folder.File("dout.npy"), "--device", "cpu");
        args[Array.IndexOf(args, "reference")] = "kernels";

        var (exit, output, err) = CliHost.Run(args);

        Assert.True(exit == ExitCodes.Ok, err);
        Assert.Contains("engine kernels", output, StringComparison.Ordinal);
        using var attention = MobaAttention.Create(MobaAttentionDevice.Cpu);
        var accelerator = attention.Accelerator;
        var batch = VarlenBatch.FromCuSeqlens(CuSeqlens);
        var config = new MobaConfig(BlockSize, TopK);
        using var qDevice = DeviceTensor<Half>.Upload(accelerator, HostConvert.ToHalf(q), 40, Heads, HeadDim);
        using var kDevice = DeviceTensor<Half>.Upload(accelerator, HostConvert.ToHalf(k), 40, HeadsKv, HeadDim);
        using var vDevice = DeviceTensor<Half>.Upload(accelerator, HostConvert.ToHalf(v), 40, HeadsKv, HeadDim);
        using var dOutDevice = DeviceTensor<Half>.Upload(accelerator, HostConvert.ToHalf(dOut), 40, Heads, HeadDim);
        using var forward = attention.Forward(qDevice, kDevice, vDevice, batch, config);
        using var grads = attention.Backward(dOutDevice, qDevice, kDevice, vDevice, forward, batch, config);

        Assert.Equal(forward.Output.Download(), NpyFile.Read(folder.File("out/out.npy")).ToFloat16());
        Assert.Equal(forward.Lse.Download(), NpyFile.Read(folder.File("out/lse.npy")).ToFloat32());
        Assert.Equal(grads.DQ.Download(), NpyFile.Read(folder.File("out/dq.npy")).ToFloat16());
        Assert.Equal(grads.DK.Download(), NpyFile.Read(folder.File("out/dk.npy")).ToFloat16());
        Assert.Equal(grads.DV.Download(), NpyFile.Read(folder.File("out/dv.npy")).ToFloat16());
    }

    [Fact]
    public void Bf16_WritesFloat32Outputs()
    {
        using var folder = new TempFolder();
        WriteInputs(folder);

        var (exit, _, err) = CliHost.Run(Args(folder, "--dtype", "bf16"));

        Assert.True(exit == ExitCodes.Ok, err);
        var output = NpyFile.Read(folder.File("out/out.npy"));
        Assert.Equal(NpyDType.Float32, output.DType);
        Assert.All(output.ToFloat32(), x => Assert.Equal(x, BFloat16.FromFloat(x).ToFloat()));
        Assert.False(File.Exists(folder.File("out/dq.npy")));
    }

    [Fact]
    public void BatchFirst4D_WithoutCuSeqlens_Works()
    {
        using var folder = new TempFolder();
        var random = new Random(2);
        float[] Sample(int count) => Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray();
        NpyFile.Write(folder.File("q.npy"), NpyArray.From(Sample(2 * 20 * 2 * 64), 2, 20, 2, 64));
        NpyFile.Write(folder.File("k.npy"), NpyArray.From(Sample(2 * 20 * 64), 2, 20, 1, 64));
        NpyFile.Write(folder.File("v.npy"), NpyArray.From(Sample(2 * 20 * 64), 2, 20, 1, 64));

        var (exit, _, err) = CliHost.Run("run", "-q", folder.File("q.npy"), "-k", folder.File("k.npy"), "-v", folder.File("v.npy"),
            "--block-size", "16", "--top-k", "1", "--engine", "reference", "--out", folder.File("out"));

        Assert.True(exit == ExitCodes.Ok, err);
        Assert.Equal([2, 20, 2, 64], NpyFile.Read(folder.File("out/out.npy")).Shape);
        Assert.Equal([2, 40], NpyFile.Read(folder.File("out/lse.npy")).Shape);
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "k-head-dim", "k head dim 128 must equal q head dim 64" },
        { "q-float64", "dtype float64; expected float16 or float32" },
        { "q-truncated", "truncated" },
        { "q-not-npy", "not a .npy file" },
        { "q-fortran", "fortran_order=True" },
        { "cu-wrong-total", "cuSeqlensQ totals 39" },
        { "cu-decreasing", "non-decreasing" },
        { "cu-float", "not an integer type" },
        { "dout-shape", "must equal q's" },
        { "q-rank2", "expected rank 3" },
        { "heads", "multiple of k heads" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_ExitTwo_ClearMessage_NothingWritten(string defect, string message)
    {
        using var folder = new TempFolder();
        WriteInputs(folder);
        var extra = new List<string>();
        switch (defect)
        {
            case "k-head-dim":
                NpyFile.Write(folder.File("k.npy"), NpyArray.From(new float[40 * 128], 40, 1, 128));
                break;
            case "q-float64":
                NpyFile.Write(folder.File("q.npy"), new NpyArray(NpyDType.Float64, [40, Heads, HeadDim], new byte[40 * Heads * HeadDim * 8]));
                break;
            case "q-truncated":
                var bytes = File.ReadAllBytes(folder.File("q.npy"));
                File.WriteAllBytes(folder.File("q.npy"), bytes[..(bytes.Length - 10)]);
                break;
            case "q-not-npy":
                File.WriteAllText(folder.File("q.npy"), "q,k,v\n1,2,3\n");
                break;
            case "q-fortran":
                var fortran = File.ReadAllBytes(folder.File("q.npy"));
                string header = System.Text.Encoding.Latin1.GetString(fortran, 10, 118).Replace("'fortran_order': False", "'fortran_order': True ", StringComparison.Ordinal);
                System.Text.Encoding.Latin1.GetBytes(header).CopyTo(fortran, 10);
                File.WriteAllBytes(folder.File("q.npy"), fortran);
                break;
            case "cu-wrong-total":
                NpyFile.Write(folder.File("cu.npy"), NpyArray.From([0, 25, 39], 3));
                break;
            case "cu-decreasing":
                NpyFile.Write(folder.File("cu.npy"), NpyArray.From([0, 30, 25, 40], 4));
                break;
            case "cu-float":
                NpyFile.Write(folder.File("cu.npy"), NpyArray.From([0f, 25f, 40f], 3));
                break;
            case "dout-shape":
                NpyFile.Write(folder.File("dout.npy"), NpyArray.From(new float[40 * Heads * HeadDim], 40, Heads * HeadDim, 1));
                extra.AddRange(["--dout", folder.File("dout.npy")]);
                break;
            case "q-rank2":
                NpyFile.Write(folder.File("q.npy"), NpyArray.From(new float[40 * Heads * HeadDim], 40, Heads * HeadDim));
                break;
            case "heads":
                NpyFile.Write(folder.File("q.npy"), NpyArray.From(new float[40 * 3 * HeadDim], 40, 3, HeadDim));
                NpyFile.Write(folder.File("k.npy"), NpyArray.From(new float[40 * 2 * HeadDim], 40, 2, HeadDim));
                NpyFile.Write(folder.File("v.npy"), NpyArray.From(new float[40 * 2 * HeadDim], 40, 2, HeadDim));
                break;
        }

        var (exit, _, err) = CliHost.Run(Args(folder, [.. extra]));

        Assert.Equal(ExitCodes.BadArguments, exit);
        string line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder.File("out")), "nothing may be written for a bad input");
    }

    [Fact]
    public void KeyConvWidthWithoutWeights_IsABadArgument()
    {
        using var folder = new TempFolder();
        WriteInputs(folder);
        var (exit, _, err) = CliHost.Run(Args(folder, "--key-conv-width", "3"));
        Assert.Equal(ExitCodes.BadArguments, exit);
        Assert.Contains("must be given together", err, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyConv_WritesDwAndMatchesReference()
    {
        using var folder = new TempFolder();
        var (q, k, v, dOut) = WriteInputs(folder);
        var random = new Random(9);
        var weights = Enumerable.Range(0, 3 * HeadsKv * HeadDim).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        NpyFile.Write(folder.File("w.npy"), NpyArray.From(weights, 3, HeadsKv, HeadDim));

        var (exit, _, err) = CliHost.Run(Args(folder, "--dout", folder.File("dout.npy"), "--key-conv-width", "3", "--key-conv-weights", folder.File("w.npy")));

        Assert.True(exit == ExitCodes.Ok, err);
        double[] w = HostConvert.ToDouble(weights);
        var shape = new AttentionShape(CuSeqlens, CuSeqlens, Heads, HeadsKv, HeadDim);
        double[] kPrime = KeyConvReference.Forward(CuSeqlens, HeadsKv, HeadDim, HostConvert.ToDouble(k), w, 3);
        var forward = MobaReference.Forward(shape, HostConvert.ToDouble(q), kPrime, HostConvert.ToDouble(v), BlockSize, TopK, causal: true);
        Assert.Equal(HostConvert.ToHalf(HostConvert.ToFloat(forward.Output)), NpyFile.Read(folder.File("out/out.npy")).ToFloat16());
        var grads = MobaReference.Backward(shape, HostConvert.ToDouble(q), kPrime, HostConvert.ToDouble(v), HostConvert.ToDouble(dOut), BlockSize, TopK, causal: true);
        var conv = KeyConvReference.Backward(CuSeqlens, HeadsKv, HeadDim, HostConvert.ToDouble(k), w, 3, grads.DK);
        Assert.Equal(HostConvert.ToFloat(conv.DW), NpyFile.Read(folder.File("out/dw.npy")).ToFloat32());
        Assert.Equal(HostConvert.ToHalf(HostConvert.ToFloat(conv.DK)), NpyFile.Read(folder.File("out/dk.npy")).ToFloat16());
    }
}
