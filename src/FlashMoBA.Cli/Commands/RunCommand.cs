using FlashMoBA.Cli.Npy;
using FlashMoBA.Cli.Engines;
using FlashMoBA.Cli.Tensors;

namespace FlashMoBA.Cli.Commands;

/// <summary>
/// <c>flashmoba run</c>: reads and validates every input file, computes, and only then writes the
/// outputs (each atomically), so a bad input leaves the output folder untouched.
/// </summary>
internal sealed class RunCommand(RunOptions options, TextWriter stdout, TextWriter stderr)
{
    /// <summary>Engines; the discovered ones by default.</summary>
    public IReadOnlyList<IRunEngine> Engines { get; init; } = RunEngines.Discover();

    /// <summary>Runs the verb.</summary>
    public int Execute()
    {
        _ = stderr;
        var engine = SelectEngine();
        var problem = Load(out int[]? batchedShape);
        stdout.WriteLine($"{engine.Describe(options)}; {problem.Batch}; H={problem.Dims.Heads} Hk={problem.Dims.HeadsKv} d={problem.Dims.HeadDim} " +
            $"B={problem.Config.BlockSize} topK={problem.Config.TopK} {(problem.Config.Causal ? "causal" : "non-causal")} {problem.Config.ElementType.ShortName()}" +
            (problem.DOut is null ? "" : "; forward + backward"));

        var result = engine.Execute(problem, options);

        var outputs = new List<(string Name, NpyArray Array)>
        {
            ("out.npy", Storage(result.Output, batchedShape ?? problem.Dims.QShape)),
            ("lse.npy", NpyArray.From(result.Lse, problem.Dims.LseShape)),
        };
        if (result.DQ is { } dq) outputs.Add(("dq.npy", Storage(dq, batchedShape ?? problem.Dims.QShape)));
        int[] kvShape = batchedShape is null ? problem.Dims.KvShape : [batchedShape[0], batchedShape[1], problem.Dims.HeadsKv, problem.Dims.HeadDim];
        if (result.DK is { } dk) outputs.Add(("dk.npy", Storage(dk, kvShape)));
        if (result.DV is { } dv) outputs.Add(("dv.npy", Storage(dv, kvShape)));
        if (result.DW is { } dw) outputs.Add(("dw.npy", NpyArray.From(dw, problem.Config.KeyConvWidth!.Value, problem.Dims.HeadsKv, problem.Dims.HeadDim)));

        Directory.CreateDirectory(options.Out);
        foreach (var (name, array) in outputs)
        {
            string path = Path.Combine(options.Out, name);
            NpyFile.Write(path, array);
            stdout.WriteLine($"wrote {path} {NpyArray.FormatShape(array.Shape)} {array.DType.NumpyName()}");
        }
        return ExitCodes.Ok;
    }

    private IRunEngine SelectEngine()
    {
        if (Engines.Count == 0) throw new UsageException("no run engine is available in this build");
        if (options.Engine is null) return Engines[0];
        return Engines.FirstOrDefault(e => e.Name == options.Engine)
            ?? throw new UsageException($"--engine {options.Engine}: unknown; available: {string.Join(", ", Engines.Select(e => e.Name))}");
    }

    /// <summary>Reads and validates all inputs; throws <see cref="UsageException"/> naming the file and the rule.</summary>
    private RunProblem Load(out int[]? batchedShape)
    {
        if (File.Exists(options.Out)) throw new UsageException($"--out {options.Out} is a file; give a folder");
        var type = options.DType.ToElementType();
        MobaConfig config;
        try
        {
            config = new MobaConfig(options.BlockSize, options.TopK)
            {
                Causal = !options.NonCausal,
                SoftmaxScale = options.SoftmaxScale,
                ElementType = type,
                KeyConvWidth = options.KeyConvWidth,
            };
        }
        catch (ArgumentException ex)
        {
            throw UsageException.From(ex, ex.ParamName switch
            {
                "blockSize" => "--block-size",
                "topK" => "--top-k",
                nameof(MobaConfig.SoftmaxScale) => "--softmax-scale",
                nameof(MobaConfig.KeyConvWidth) => "--key-conv-width",
                _ => "configuration",
            });
        }
        if ((options.KeyConvWidth is null) != (options.KeyConvWeights is null))
            throw new UsageException("--key-conv-width and --key-conv-weights must be given together");

        var q = ReadFloat(options.Q, "q");
        var k = ReadFloat(options.K, "k");
        var v = ReadFloat(options.V, "v");
        var dOut = options.DOut is { } dOutPath ? ReadFloat(dOutPath, "dOut") : null;

        int[] qShape = q.Shape, kShape = k.Shape, vShape = v.Shape;
        VarlenBatch batch;
        batchedShape = null;
        if (q.Shape.Length == 4)
        {
            if (options.CuSeqlens is not null || options.CuSeqlensQ is not null || options.CuSeqlensK is not null)
                throw new UsageException($"{options.Q}: a 4-D [b, N, H, d] q already gives the batch; drop --cu-seqlens or pass [totalQ, H, d]");
            foreach (var (array, path) in new[] { (k, options.K), (v, options.V) })
            {
                if (array.Shape.Length != 4 || array.Shape[0] != q.Shape[0])
                    throw new UsageException($"{path}: shape {NpyArray.FormatShape(array.Shape)} must be [b, N, Hk, d] with b = {q.Shape[0]} like q");
            }
            batch = MakeBatch(() => VarlenBatch.FromLengths(Repeat(q.Shape[1], q.Shape[0]), Repeat(k.Shape[1], q.Shape[0])), options.Q);
            qShape = Flatten(q.Shape);
            kShape = Flatten(k.Shape);
            vShape = Flatten(v.Shape);
            batchedShape = q.Shape;
        }
        else
        {
            batch = LoadBatch(q, k);
        }

        AttentionDims dims;
        try
        {
            dims = AttentionShapes.Validate(qShape, kShape, vShape, batch, config);
        }
        catch (ArgumentException ex)
        {
            throw UsageException.From(ex, ex.ParamName switch { "k" => options.K, "v" => options.V, _ => options.Q });
        }
        if (dOut is not null && !dOut.Shape.SequenceEqual(q.Shape))
            throw new UsageException($"{options.DOut}: shape {NpyArray.FormatShape(dOut.Shape)} must equal q's {NpyArray.FormatShape(q.Shape)}");

        float[]? weights = null;
        if (options.KeyConvWeights is { } weightsPath)
        {
            var w = ReadFloat(weightsPath, "key-conv weights");
            try
            {
                AttentionShapes.ValidateKeyConvWeights(w.Shape, dims, config);
            }
            catch (ArgumentException ex)
            {
                throw UsageException.From(ex, weightsPath);
            }
            weights = w.ToFloat32();
        }

        return new RunProblem(
            HostConvert.RoundTo(q.ToFloat32(), type), HostConvert.RoundTo(k.ToFloat32(), type), HostConvert.RoundTo(v.ToFloat32(), type),
            dOut is null ? null : HostConvert.RoundTo(dOut.ToFloat32(), type), weights, batch, config, dims);
    }

    private VarlenBatch LoadBatch(NpyArray q, NpyArray k)
    {
        if (options.CuSeqlens is { } both)
        {
            if (options.CuSeqlensQ is not null || options.CuSeqlensK is not null)
                throw new UsageException("give either --cu-seqlens or --cu-seqlens-q with --cu-seqlens-k, not both");
            int[] cu = ReadCuSeqlens(both);
            return MakeBatch(() => VarlenBatch.FromCuSeqlens(cu), both);
        }
        if ((options.CuSeqlensQ is null) != (options.CuSeqlensK is null))
            throw new UsageException("--cu-seqlens-q and --cu-seqlens-k must be given together");
        if (options.CuSeqlensQ is { } qPath && options.CuSeqlensK is { } kPath)
        {
            int[] cuQ = ReadCuSeqlens(qPath), cuK = ReadCuSeqlens(kPath);
            return MakeBatch(() => VarlenBatch.FromCuSeqlens(cuQ, cuK), qPath + "/" + kPath);
        }
        // One sequence holding every row of q and k.
        int totalQ = q.Shape.Length > 0 ? q.Shape[0] : 0, totalK = k.Shape.Length > 0 ? k.Shape[0] : 0;
        return MakeBatch(() => VarlenBatch.FromLengths([totalQ], [totalK]), options.Q);
    }

    private static VarlenBatch MakeBatch(Func<VarlenBatch> build, string subject)
    {
        try
        {
            return build();
        }
        catch (ArgumentException ex)
        {
            throw UsageException.From(ex, subject);
        }
    }

    private static NpyArray ReadFloat(string path, string what)
    {
        var array = Read(path);
        if (array.DType is not (NpyDType.Float16 or NpyDType.Float32))
            throw new UsageException($"{path}: {what} has dtype {array.DType.NumpyName()}; expected float16 or float32");
        if (array.Shape.Length is not (3 or 4) && what is "q" or "k" or "v" or "dOut")
            throw new UsageException($"{path}: {what} has shape {NpyArray.FormatShape(array.Shape)}; expected rank 3 [tokens, heads, d] or 4 [b, N, heads, d]");
        return array;
    }

    private static int[] ReadCuSeqlens(string path)
    {
        var array = Read(path);
        if (array.Shape.Length != 1)
            throw new UsageException($"{path}: cuSeqlens has shape {NpyArray.FormatShape(array.Shape)}; expected 1-D [batch+1]");
        try
        {
            return array.ToInt32();
        }
        catch (NpyFormatException ex)
        {
            throw new UsageException($"{path}: cuSeqlens {ex.Message}");
        }
    }

    private static NpyArray Read(string path)
    {
        try
        {
            return NpyFile.Read(path);
        }
        catch (NpyFormatException ex)
        {
            throw new UsageException(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{path}: {ex.Message}");
        }
    }

    private NpyArray Storage(float[] values, int[] shape) =>
        options.DType == DTypeChoice.Fp16 ? NpyArray.From(HostConvert.ToHalf(values), shape) : NpyArray.From(values, shape);

    private static int[] Flatten(int[] shape) => [shape[0] * shape[1], shape[2], shape[3]];

    private static int[] Repeat(int value, int count) => Enumerable.Repeat(value, count).ToArray();
}
