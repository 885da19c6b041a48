using FlashMoBA.Reference.Tests.Infrastructure;

namespace FlashMoBA.Reference.Tests;

/// <summary>
/// Every argument rule of the reference, checked on every entry point that takes the argument: the exact
/// exception type, <see cref="ArgumentException.ParamName"/>, and a message that names the rule.
/// </summary>
public sealed class ValidationTests
{
    /// <summary>Valid arguments for every attention entry point; a case breaks exactly one of them.</summary>
    private sealed class Inputs
    {
        // Sequence 1 has 4 keys (2 blocks of B = 2), sequence 2 has 6 keys (3 blocks).
        public AttentionShape Shape { get; set; } = AttentionShape.FromLengths([5, 3], [4, 6], 4, 2, 2);
        public double[] Q { get; set; } = RandomTensors.Uniform(new Random(1), 8 * 4 * 2);
        public double[] K { get; set; } = RandomTensors.Uniform(new Random(2), 10 * 2 * 2);
        public double[] V { get; set; } = RandomTensors.Uniform(new Random(3), 10 * 2 * 2);
        public double[] DOut { get; set; } = RandomTensors.Uniform(new Random(4), 8 * 4 * 2);
        public int BlockSize { get; set; } = 2;
        public int TopK { get; set; } = 2;
        public int[] TopkIndex { get; set; } = Enumerable.Repeat(-1, 8 * 4 * 2).ToArray();
        public double Scale { get; set; } = 0.5;

        public IEnumerable<(string Name, string[] Parameters, Action Call)> EntryPoints() =>
        [
            ("DenseReference.Forward", ["shape", "q", "k", "v", "softmaxScale"],
                () => DenseReference.Forward(Shape, Q, K, V, true, Scale)),
            ("DenseReference.Backward", ["shape", "q", "k", "v", "dOut", "softmaxScale"],
                () => DenseReference.Backward(Shape, Q, K, V, DOut, true, Scale)),
            ("MobaReference.Forward", ["shape", "q", "k", "v", "blockSize", "topK", "softmaxScale"],
                () => MobaReference.Forward(Shape, Q, K, V, BlockSize, TopK, true, Scale)),
            ("MobaReference.Backward", ["shape", "q", "k", "v", "dOut", "blockSize", "topK", "softmaxScale"],
                () => MobaReference.Backward(Shape, Q, K, V, DOut, BlockSize, TopK, true, Scale)),
            ("MobaReference.ForwardWithSelection",
                ["shape", "q", "k", "v", "blockSize", "topK", "topkIndex", "softmaxScale"],
                () => MobaReference.ForwardWithSelection(Shape, Q, K, V, BlockSize, TopkIndex, TopK, true, Scale)),
            ("MobaReference.BackwardWithSelection",
                ["shape", "q", "k", "v", "dOut", "blockSize", "topK", "topkIndex", "softmaxScale"],
                () => MobaReference.BackwardWithSelection(Shape, Q, K, V, DOut, BlockSize, TopkIndex, TopK, true,
                    Scale)),
            ("BlockRouting.Centroids", ["shape", "k", "blockSize"],
                () => BlockRouting.Centroids(Shape, K, BlockSize)),
            ("BlockRouting.GateScores", ["shape", "q", "k", "blockSize"],
                () => BlockRouting.GateScores(Shape, Q, K, BlockSize)),
            ("BlockRouting.SelectBlocks", ["shape", "q", "k", "blockSize", "topK"],
                () => BlockRouting.SelectBlocks(Shape, Q, K, BlockSize, TopK, true)),
        ];
    }

    private static readonly Dictionary<string, (Action<Inputs> Break, string Parameter, Type Exception, string Rule)>
        AttentionCases = new()
        {
            ["shape null"] = (x => x.Shape = null!, "shape", typeof(ArgumentNullException), "shape"),
            ["CuSeqlensQ null"] = (x => x.Shape = x.Shape with { CuSeqlensQ = null! }, "shape",
                typeof(ArgumentException), "CuSeqlensQ must not be null"),
            ["CuSeqlensK null"] = (x => x.Shape = x.Shape with { CuSeqlensK = null! }, "shape",
                typeof(ArgumentException), "CuSeqlensK must not be null"),
            ["CuSeqlensQ without a sequence"] = (x => x.Shape = x.Shape with { CuSeqlensQ = [0] }, "shape",
                typeof(ArgumentException), "CuSeqlensQ must have batch + 1 >= 2"),
            ["CuSeqlensK empty"] = (x => x.Shape = x.Shape with { CuSeqlensK = [] }, "shape",
                typeof(ArgumentException), "CuSeqlensK must have batch + 1 >= 2"),
            ["CuSeqlensQ not starting at 0"] = (x => x.Shape = x.Shape with { CuSeqlensQ = [1, 5, 8] }, "shape",
                typeof(ArgumentException), "CuSeqlensQ must start at 0"),
            ["CuSeqlensK decreasing"] = (x => x.Shape = x.Shape with { CuSeqlensK = [0, 10, 4] }, "shape",
                typeof(ArgumentException), "CuSeqlensK must be non-decreasing"),
            ["CuSeqlensQ negative length"] = (x => x.Shape = AttentionShape.FromLengths([5, -1], [4, 6], 4, 2, 2),
                "shape", typeof(ArgumentException), "CuSeqlensQ must be non-decreasing"),
            ["batch sizes differ"] = (x => x.Shape = x.Shape with { CuSeqlensK = [0, 10] }, "shape",
                typeof(ArgumentException), "must describe the same number of sequences"),
            ["Heads zero"] = (x => x.Shape = x.Shape with { Heads = 0 }, "shape",
                typeof(ArgumentException), "Heads must be at least 1"),
            ["HeadsKv zero"] = (x => x.Shape = x.Shape with { HeadsKv = 0 }, "shape",
                typeof(ArgumentException), "HeadsKv must be at least 1"),
            ["HeadDim negative"] = (x => x.Shape = x.Shape with { HeadDim = -2 }, "shape",
                typeof(ArgumentException), "HeadDim must be at least 1"),
            ["Heads not a multiple of HeadsKv"] = (x => x.Shape = x.Shape with { Heads = 3 }, "shape",
                typeof(ArgumentException), "must be a multiple of HeadsKv"),
            ["q null"] = (x => x.Q = null!, "q", typeof(ArgumentNullException), "q"),
            ["q too short"] = (x => x.Q = x.Q[1..], "q", typeof(ArgumentException), "q must have 64 elements"),
            ["k too long"] = (x => x.K = [.. x.K, 0], "k", typeof(ArgumentException), "k must have 40 elements"),
            ["k null"] = (x => x.K = null!, "k", typeof(ArgumentNullException), "k"),
            ["v sized like q"] = (x => x.V = x.Q, "v", typeof(ArgumentException), "v must have 40 elements"),
            ["v null"] = (x => x.V = null!, "v", typeof(ArgumentNullException), "v"),
            ["dOut sized like k"] = (x => x.DOut = x.K, "dOut", typeof(ArgumentException), "dOut must have 64"),
            ["dOut null"] = (x => x.DOut = null!, "dOut", typeof(ArgumentNullException), "dOut"),
            ["blockSize zero"] = (x => x.BlockSize = 0, "blockSize", typeof(ArgumentException),
                "blockSize must be at least 1"),
            ["blockSize negative"] = (x => x.BlockSize = -4, "blockSize", typeof(ArgumentException),
                "blockSize must be at least 1"),
            ["topK zero"] = (x => x.TopK = 0, "topK", typeof(ArgumentException), "topK must be at least 1"),
            ["softmaxScale NaN"] = (x => x.Scale = double.NaN, "softmaxScale", typeof(ArgumentException),
                "softmaxScale must be finite and positive"),
            ["softmaxScale infinite"] = (x => x.Scale = double.PositiveInfinity, "softmaxScale",
                typeof(ArgumentException), "softmaxScale must be finite and positive"),
            ["softmaxScale zero"] = (x => x.Scale = 0, "softmaxScale", typeof(ArgumentException),
                "softmaxScale must be finite and positive"),
            ["softmaxScale negative"] = (x => x.Scale = -0.5, "softmaxScale", typeof(ArgumentException),
                "softmaxScale must be finite and positive"),
            ["topkIndex null"] = (x => x.TopkIndex = null!, "topkIndex", typeof(ArgumentNullException), "topkIndex"),
            ["topkIndex sized for another topK"] = (x => x.TopkIndex = new int[8 * 4 * 3], "topkIndex",
                typeof(ArgumentException), "topkIndex must have 64 elements"),
            ["topkIndex below -1"] = (x => x.TopkIndex[7] = -2, "topkIndex", typeof(ArgumentException),
                "topkIndex[7] = -2 must be -1 or a block of sequence 0"),
            ["topkIndex past the sequence's blocks"] = (x => x.TopkIndex[3] = 2, "topkIndex",
                typeof(ArgumentException), "topkIndex[3] = 2 must be -1 or a block of sequence 0 (0..1)"),
            ["topkIndex past the last block"] = (x => x.TopkIndex[63] = 3, "topkIndex", typeof(ArgumentException),
                "topkIndex[63] = 3 must be -1 or a block of sequence 1 (0..2)"),
        };

    public static TheoryData<string> AttentionCaseNames => new(AttentionCases.Keys);

    [Fact]
    public void ValidInputs_AreAcceptedByEveryEntryPoint()
    {
        var inputs = new Inputs();
        inputs.TopkIndex[0] = 1;
        inputs.TopkIndex[63] = 2;
        foreach ((string _, string[] _, Action call) in inputs.EntryPoints())
        {
            call();
        }
    }

    [Theory]
    [MemberData(nameof(AttentionCaseNames))]
    public void AttentionEntryPoints_RejectBrokenArgument(string caseName)
    {
        (Action<Inputs> breakInput, string parameter, Type exception, string rule) = AttentionCases[caseName];
        var inputs = new Inputs();
        breakInput(inputs);
        int checkedEntryPoints = 0;

        foreach ((string name, string[] parameters, Action call) in inputs.EntryPoints())
        {
            if (!parameters.Contains(parameter))
            {
                continue;
            }

            AssertRejects(call, exception, parameter, rule, name);
            checkedEntryPoints++;
        }

        Assert.True(checkedEntryPoints > 0, $"no entry point takes {parameter}");
    }

    public static TheoryData<string, int[]?> BadCuSeqlens => new()
    {
        { "must not be null", null },
        { "must have batch + 1 >= 2", [] },
        { "must have batch + 1 >= 2", [0] },
        { "must start at 0", [2, 4] },
        { "must be non-decreasing", [0, 4, 3, 9] },
    };

    [Theory]
    [MemberData(nameof(BadCuSeqlens))]
    public void CuBlocksAndKeyConv_RejectBadCuSeqlensK(string rule, int[]? cuSeqlensK)
    {
        double[] k = new double[4], weights = new double[3];

        AssertRejects(() => BlockRouting.CuBlocks(cuSeqlensK!, 2), typeof(ArgumentException), "cuSeqlensK",
            "cuSeqlensK " + rule, "CuBlocks");
        AssertRejects(() => KeyConvReference.Forward(cuSeqlensK!, 1, 1, k, weights, 3), typeof(ArgumentException),
            "cuSeqlensK", "cuSeqlensK " + rule, "KeyConvReference.Forward");
        AssertRejects(() => KeyConvReference.Backward(cuSeqlensK!, 1, 1, k, weights, 3, k), typeof(ArgumentException),
            "cuSeqlensK", "cuSeqlensK " + rule, "KeyConvReference.Backward");
    }

    [Fact]
    public void CuBlocks_RejectsBlockSizeBelowOne()
    {
        AssertRejects(() => BlockRouting.CuBlocks([0, 4], 0), typeof(ArgumentException), "blockSize",
            "blockSize must be at least 1", "CuBlocks");
    }

    public static TheoryData<string, string, Type, string> KeyConvCases => new()
    {
        // case, parameter, exception, rule
        { "headsKv zero", "headsKv", typeof(ArgumentException), "headsKv must be at least 1" },
        { "headDim zero", "headDim", typeof(ArgumentException), "headDim must be at least 1" },
        { "width 4", "width", typeof(ArgumentException), "width must be one of 3, 5; it is 4" },
        { "width 1", "width", typeof(ArgumentException), "width must be one of 3, 5; it is 1" },
        { "width 7", "width", typeof(ArgumentException), "width must be one of 3, 5; it is 7" },
        { "k too short", "k", typeof(ArgumentException), "k must have 24 elements" },
        { "k null", "k", typeof(ArgumentNullException), "k" },
        { "weights sized for width 5", "weights", typeof(ArgumentException), "weights must have 12 elements" },
        { "weights null", "weights", typeof(ArgumentNullException), "weights" },
        { "dKPrime too long", "dKPrime", typeof(ArgumentException), "dKPrime must have 24 elements" },
        { "dKPrime null", "dKPrime", typeof(ArgumentNullException), "dKPrime" },
    };

    [Theory]
    [MemberData(nameof(KeyConvCases))]
    public void KeyConv_RejectsBrokenArgument(string caseName, string parameter, Type exception, string rule)
    {
        // Valid: 6 keys in two sequences, Hk = 2, d = 2, W = 3.
        int[] cuSeqlensK = [0, 2, 6];
        int headsKv = 2, headDim = 2, width = 3;
        double[] k = new double[24], weights = new double[12], dKPrime = new double[24];
        switch (caseName)
        {
            case "headsKv zero": headsKv = 0; break;
            case "headDim zero": headDim = 0; break;
            case "width 4": width = 4; break;
            case "width 1": width = 1; break;
            case "width 7": width = 7; break;
            case "k too short": k = new double[23]; break;
            case "k null": k = null!; break;
            case "weights sized for width 5": weights = new double[20]; break;
            case "weights null": weights = null!; break;
            case "dKPrime too long": dKPrime = new double[25]; break;
            case "dKPrime null": dKPrime = null!; break;
            default: throw new ArgumentOutOfRangeException(nameof(caseName), caseName, "unknown case");
        }

        if (parameter != "dKPrime")
        {
            AssertRejects(() => KeyConvReference.Forward(cuSeqlensK, headsKv, headDim, k, weights, width), exception,
                parameter, rule, "KeyConvReference.Forward");
        }

        AssertRejects(() => KeyConvReference.Backward(cuSeqlensK, headsKv, headDim, k, weights, width, dKPrime),
            exception, parameter, rule, "KeyConvReference.Backward");
    }

    [Fact]
    public void KeyConv_ValidInputs_AreAccepted()
    {
        double[] k = new double[24], weights = new double[12];

        Assert.Equal(24, KeyConvReference.Forward([0, 2, 6], 2, 2, k, weights, 3).Length);
        Assert.Equal(20, KeyConvReference.Backward([0, 2, 6], 2, 2, k, new double[20], 5, k).DW.Length);
    }

    private static void AssertRejects(Action call, Type exception, string parameter, string rule, string entryPoint)
    {
        Exception thrown = Assert.Throws(exception, call);
        var argumentException = Assert.IsAssignableFrom<ArgumentException>(thrown);
        Assert.True(argumentException.ParamName == parameter,
            $"{entryPoint}: ParamName was '{argumentException.ParamName}', expected '{parameter}'.");
        Assert.True(argumentException.Message.Contains(rule, StringComparison.Ordinal),
            $"{entryPoint}: message '{argumentException.Message}' does not state '{rule}'.");
    }
}
