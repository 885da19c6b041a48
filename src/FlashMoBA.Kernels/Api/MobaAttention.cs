using System.Runtime.CompilerServices;
using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Routing;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA;

/// <summary>
/// Mixture of Block Attention (MoBA) forward and backward on one accelerator (DESIGN.md §3–§4): each
/// query row attends, with one softmax, to the key blocks its router selects — its own block and the
/// highest-scoring others (top-k of q·centroid) — computed by the FlashMoBA kernels: fused routing,
/// gather-and-densify attention on tensor cores, and a key-block-centric backward.
/// </summary>
/// <remarks>
/// <para>Tensors are varlen-packed like FlashAttention's varlen API: <c>q [totalQ, H, d]</c>,
/// <c>k, v [totalK, Hk, d]</c> with sequences described by a <see cref="VarlenBatch"/>; query head
/// <c>h</c> reads KV head <c>h / (H / Hk)</c>. Storage is fp16 (<see cref="System.Half"/> or
/// <see cref="ILGPU.Half"/>) or <see cref="BFloat16"/>; accumulation is fp32.</para>
/// <para>Every argument is validated before anything is launched (<see cref="ArgumentException"/>
/// naming the argument). Work is enqueued on the accelerator's default stream and not awaited:
/// downloading a result (<see cref="DeviceTensor{T}.Download"/>) or <see cref="Synchronize"/> waits for it.
/// An instance is not thread-safe; it keeps one scratch buffer that grows to the largest problem seen
/// (a few percent of the inputs and outputs: see <see cref="MobaConfig.HeadChunk"/>).</para>
/// </remarks>
public sealed partial class MobaAttention : IDisposable
{
    private readonly AcceleratorHost? host;
    private readonly KernelCache cache;
    private readonly Router router;
    private readonly MobaWorkspace workspace;
    private readonly MobaStageMarkers stageMarkers = new();
    private bool disposed;

    /// <summary>Runs on <paramref name="accelerator"/>, which the caller keeps owning (it must outlive this instance).</summary>
    /// <param name="accelerator">A CUDA accelerator, or ILGPU's CPU accelerator created with 32-lane warps and at least 8 warps per group.</param>
    /// <exception cref="ArgumentException">A CPU accelerator whose warps are not 32 lanes or whose groups hold fewer than 256 threads.</exception>
    public MobaAttention(Accelerator accelerator)
        : this(accelerator, null)
    {
    }

    private MobaAttention(Accelerator accelerator, AcceleratorHost? owner)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (accelerator.WarpSize != 32 || accelerator.MaxNumThreadsPerGroup < MobaBackward.Threads)
            throw new ArgumentException(
                $"accelerator must have 32-lane warps and allow {MobaBackward.Threads} threads per group "
                + $"(has {accelerator.WarpSize} and {accelerator.MaxNumThreadsPerGroup}).", nameof(accelerator));
        host = owner;
        Accelerator = accelerator;
        cache = KernelCache.For(accelerator);
        router = new Router(accelerator);
        workspace = new MobaWorkspace(accelerator);
    }

    /// <summary>Creates its own ILGPU context and accelerator (configured for speed) and owns them.</summary>
    /// <param name="device">CUDA when present (<see cref="MobaAttentionDevice.Auto"/>), or the given kind.</param>
    /// <exception cref="InvalidOperationException"><see cref="MobaAttentionDevice.Cuda"/> was asked for and no CUDA device exists.</exception>
    public static MobaAttention Create(MobaAttentionDevice device = MobaAttentionDevice.Auto)
    {
        var choice = device switch
        {
            MobaAttentionDevice.Auto => AcceleratorChoice.Auto,
            MobaAttentionDevice.Cuda => AcceleratorChoice.Cuda,
            MobaAttentionDevice.Cpu => AcceleratorChoice.Cpu,
            _ => throw new ArgumentOutOfRangeException(nameof(device), device, "device must be Auto, Cuda or Cpu."),
        };
        var owner = AcceleratorHost.Create(choice);
        try
        {
            return new MobaAttention(owner.Accelerator, owner);
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    /// <summary>The accelerator the kernels run on; tensors passed in must live on it.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>True when <see cref="Accelerator"/> is a CUDA GPU.</summary>
    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>
    /// When true, every forward and backward enqueues a profiling marker after each of its stages, and
    /// <see cref="MeasureStageTimes"/> reports their device times. Needs an accelerator whose context has
    /// profiling enabled; costs a few microseconds per stage. Default false.
    /// </summary>
    public bool RecordStageTimes { get; set; }

    /// <summary>
    /// Device time of every stage since the last forward began (the forward's stages, then the backward's
    /// when one followed); waits for them to finish. Empty unless <see cref="RecordStageTimes"/> was on.
    /// </summary>
    public IReadOnlyList<MobaAttentionStageTime> MeasureStageTimes() => stageMarkers.Measure();

    /// <summary>Device bytes of the scratch buffer kept between calls.</summary>
    public long WorkspaceBytes => workspace.DeviceBytes;

    /// <summary>
    /// Routes and attends: <c>out = MoBA(q, k, v)</c> and the LSE, into newly allocated buffers.
    /// With <see cref="MobaConfig.KeyConvWidth"/> set, k is first replaced by <c>k + SiLU(conv(k))</c>
    /// (weights <paramref name="keyConvWeights"/>), which feeds both routing and attention.
    /// </summary>
    /// <param name="q">Queries <c>[totalQ, H, d]</c>.</param>
    /// <param name="k">Keys <c>[totalK, Hk, d]</c>.</param>
    /// <param name="v">Values <c>[totalK, Hk, d]</c>.</param>
    /// <param name="batch">Sequence boundaries.</param>
    /// <param name="config">Block size, top-k, causal, scale, element type, key convolution.</param>
    /// <param name="keyConvWeights">fp32 <c>[W, Hk, d]</c>, required exactly when <c>config.KeyConvWidth</c> is set.</param>
    /// <returns>The output, LSE and routing; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">An argument breaks a rule (shape, element type, accelerator, configuration).</exception>
    public MobaForwardResult<T> Forward<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v, VarlenBatch batch,
        MobaConfig config, DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
    {
        var problem = ValidateInputs(q, k, v, batch, config, keyConvWeights);
        var result = MobaForwardResult<T>.Allocate(Accelerator, problem);
        try
        {
            EnqueueForward(q, k, v, keyConvWeights, result, selection: null);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Forward{T}(DeviceTensor{T}, DeviceTensor{T}, DeviceTensor{T}, VarlenBatch, MobaConfig, DeviceTensor{float}?)"/>,
    /// writing into <paramref name="result"/> from an earlier forward of the same problem (no allocation).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="result"/> belongs to a different problem, or an argument breaks a rule.</exception>
    public void Forward<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v, VarlenBatch batch,
        MobaConfig config, MobaForwardResult<T> result, DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(result);
        var problem = ValidateInputs(q, k, v, batch, config, keyConvWeights);
        result.RequireProblem(problem, nameof(result));
        EnqueueForward(q, k, v, keyConvWeights, result, selection: null);
    }

    /// <summary>
    /// Gradients of <c>Σ dOut ⊙ out</c> w.r.t. q, k, v (and the key-convolution weights) for the forward
    /// <paramref name="forward"/> of the same inputs; the routing stays as the forward chose it.
    /// </summary>
    /// <param name="dOut">Output gradient <c>[totalQ, H, d]</c>.</param>
    /// <param name="q">The forward's queries.</param>
    /// <param name="k">The forward's keys (before the key convolution, if any).</param>
    /// <param name="v">The forward's values.</param>
    /// <param name="forward">The forward's result (output, LSE, routing).</param>
    /// <param name="batch">The forward's batch.</param>
    /// <param name="config">The forward's configuration.</param>
    /// <param name="keyConvWeights">The forward's key-convolution weights, if any.</param>
    /// <returns>dq, dk, dv (and dw); the caller disposes them.</returns>
    /// <exception cref="ArgumentException">An argument breaks a rule or <paramref name="forward"/> belongs to a different problem.</exception>
    public MobaGradients<T> Backward<T>(DeviceTensor<T> dOut, DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        MobaForwardResult<T> forward, VarlenBatch batch, MobaConfig config, DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
    {
        var problem = ValidateBackward(dOut, q, k, v, forward, batch, config, keyConvWeights);
        var gradients = MobaGradients<T>.Allocate(Accelerator, problem);
        try
        {
            EnqueueBackward(dOut, q, k, v, forward, keyConvWeights, gradients);
            return gradients;
        }
        catch
        {
            gradients.Dispose();
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Backward{T}(DeviceTensor{T}, DeviceTensor{T}, DeviceTensor{T}, DeviceTensor{T}, MobaForwardResult{T}, VarlenBatch, MobaConfig, DeviceTensor{float}?)"/>,
    /// writing into <paramref name="gradients"/> from an earlier backward of the same problem (no allocation).
    /// </summary>
    /// <exception cref="ArgumentException">A result or the gradients belong to a different problem, or an argument breaks a rule.</exception>
    public void Backward<T>(DeviceTensor<T> dOut, DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        MobaForwardResult<T> forward, VarlenBatch batch, MobaConfig config, MobaGradients<T> gradients,
        DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var problem = ValidateBackward(dOut, q, k, v, forward, batch, config, keyConvWeights);
        gradients.RequireProblem(problem, nameof(gradients));
        EnqueueBackward(dOut, q, k, v, forward, keyConvWeights, gradients);
    }

    /// <summary>
    /// Allocates (without computing) the buffers of a forward of this problem, for the overloads that
    /// write into an existing result; the contents are undefined until a forward fills them.
    /// </summary>
    /// <exception cref="ArgumentException">An argument breaks a rule.</exception>
    public MobaForwardResult<T> AllocateForward<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        VarlenBatch batch, MobaConfig config, DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
        => MobaForwardResult<T>.Allocate(Accelerator, ValidateInputs(q, k, v, batch, config, keyConvWeights));

    /// <summary>
    /// Allocates (without computing) the gradient buffers of a backward of this problem, for the overload
    /// that writes into existing gradients; the contents are undefined until a backward fills them.
    /// </summary>
    /// <exception cref="ArgumentException">An argument breaks a rule.</exception>
    public MobaGradients<T> AllocateGradients<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        VarlenBatch batch, MobaConfig config, DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
        => MobaGradients<T>.Allocate(Accelerator, ValidateInputs(q, k, v, batch, config, keyConvWeights));

    /// <summary>Waits until every enqueued forward and backward has finished.</summary>
    public void Synchronize() => Accelerator.DefaultStream.Synchronize();

    /// <summary>Frees the scratch buffer and, for an instance from <see cref="Create"/>, the accelerator and context.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        workspace.Dispose();
        stageMarkers.Dispose();
        host?.Dispose();
    }

    /// <summary>
    /// Attention alone on a given routing <paramref name="topkIndex"/> <c>[totalQ, H, TopK]</c>
    /// (sequence-local block indices, −1 for unused slots, no block twice in a row's slots) instead of
    /// the router's: routing and attention are tested separately through this entry.
    /// </summary>
    internal MobaForwardResult<T> ForwardWithSelection<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        VarlenBatch batch, MobaConfig config, int[] topkIndex, DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
    {
        var problem = ValidateInputs(q, k, v, batch, config, keyConvWeights);
        ValidateSelection(problem, topkIndex, nameof(topkIndex));
        var result = MobaForwardResult<T>.Allocate(Accelerator, problem);
        try
        {
            EnqueueForward(q, k, v, keyConvWeights, result, topkIndex);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="ForwardWithSelection{T}(DeviceTensor{T}, DeviceTensor{T}, DeviceTensor{T}, VarlenBatch, MobaConfig, int[], DeviceTensor{float}?)"/>,
    /// writing into <paramref name="result"/> from an earlier forward of the same problem.</summary>
    internal void ForwardWithSelection<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v, VarlenBatch batch,
        MobaConfig config, int[] topkIndex, MobaForwardResult<T> result, DeviceTensor<float>? keyConvWeights = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(result);
        var problem = ValidateInputs(q, k, v, batch, config, keyConvWeights);
        ValidateSelection(problem, topkIndex, nameof(topkIndex));
        result.RequireProblem(problem, nameof(result));
        EnqueueForward(q, k, v, keyConvWeights, result, topkIndex);
    }

    /// <summary>The scratch buffer (tests poison it to prove that every value read is first written).</summary>
    internal MobaWorkspace Workspace => workspace;

    /// <summary>
    /// Parts every forward segment's query tiles are split over, in place of the automatic choice
    /// (<see cref="MobaHeadChunking.ForwardParts"/>); null (the default) keeps it. Tests force it.
    /// </summary>
    internal int? ForwardParts { get; set; }

    /// <summary>Query heads per chunk of the forward passes of <paramref name="problem"/> on this accelerator.</summary>
    internal int ForwardChunkHeads<T>(MobaProblem problem)
        where T : unmanaged =>
        MobaHeadChunking.ForwardHeads(problem.Geometry, Unsafe.SizeOf<T>(), problem.Config.HeadChunk,
            Accelerator.NumMultiprocessors);

    /// <summary>Query heads (whole groups) per chunk of the backward of <paramref name="problem"/> on this accelerator.</summary>
    internal int BackwardChunkHeads<T>(MobaProblem problem)
        where T : unmanaged =>
        MobaHeadChunking.BackwardHeads(problem.Geometry, Unsafe.SizeOf<T>(), problem.Config.HeadChunk,
            Accelerator.NumMultiprocessors);

    private void EnqueueForward<T>(DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        DeviceTensor<float>? keyConvWeights, MobaForwardResult<T> result, int[]? selection)
        where T : unmanaged
    {
        var stream = Accelerator.DefaultStream;
        var plan = result.Plan;
        var problem = result.Problem;
        var stages = RecordStageTimes ? stageMarkers : null;
        stages?.Begin(stream);
        ArrayView<T> keys = k.View.AsContiguous();
        if (problem.KeyConv is { } conv && result.ConvolvedKeys is { } convolved)
        {
            KeyConvolution.Forward<T>(stream, keys, plan.CuSeqlensK.View, keyConvWeights!.View.AsContiguous(), conv,
                convolved.View.AsContiguous());
            keys = convolved.View.AsContiguous();
            stages?.Mark(stream, "forward.key-conv");
        }
        if (selection is null)
        {
            Route(stream, plan, q.View.AsContiguous(), keys, stages);
        }
        else
        {
            if (selection.Length > 0) plan.TopkIndex.View.SubView(0, selection.Length).CopyFromCPU(stream, selection);
            KeyBlockIndex.Launch(cache, stream, plan);
            stages?.Mark(stream, "router.index");
        }
        MobaPasses.Forward(cache, stream, plan, result.LaunchOrder.View, problem.Scale, q.View.AsContiguous(), keys,
            v.View.AsContiguous(), result.Output.View.AsContiguous(), result.Lse.View.AsContiguous(), workspace,
            ForwardChunkHeads<T>(problem), Accelerator.NumMultiprocessors, ForwardParts, stages);
    }

    private void EnqueueBackward<T>(DeviceTensor<T> dOut, DeviceTensor<T> q, DeviceTensor<T> k, DeviceTensor<T> v,
        MobaForwardResult<T> forward, DeviceTensor<float>? keyConvWeights, MobaGradients<T> gradients)
        where T : unmanaged
    {
        var stream = Accelerator.DefaultStream;
        var problem = forward.Problem;
        var plan = forward.Plan;
        var stages = RecordStageTimes ? stageMarkers : null;
        ArrayView<T> keys = forward.ConvolvedKeys?.View.AsContiguous() ?? k.View.AsContiguous();
        ArrayView<T> dKeys = gradients.DConvolvedKeys?.View.AsContiguous() ?? gradients.DK.View.AsContiguous();
        MobaPasses.Backward(cache, stream, plan, forward.LaunchOrder.View, problem.Scale, q.View.AsContiguous(), keys,
            v.View.AsContiguous(), forward.Output.View.AsContiguous(), forward.Lse.View.AsContiguous(),
            dOut.View.AsContiguous(), gradients.DQ.View.AsContiguous(), dKeys, gradients.DV.View.AsContiguous(), workspace,
            BackwardChunkHeads<T>(problem), stages);
        if (problem.KeyConv is { } conv && gradients.DW is { } dw && gradients.DWPartials is { } partials)
        {
            KeyConvolution.Backward<T>(stream, k.View.AsContiguous(), plan.CuSeqlensK.View, keyConvWeights!.View.AsContiguous(),
                dKeys, conv, gradients.DK.View.AsContiguous(), dw.View.AsContiguous(), partials.View.AsContiguous(),
                gradients.Partials);
            stages?.Mark(stream, "backward.key-conv");
        }
    }

    /// <summary>The router reads keys and queries as <see cref="ILGPU.Half"/> or <see cref="BFloat16"/>.</summary>
    private void Route<T>(AcceleratorStream stream, RoutingPlan plan, ArrayView<T> q, ArrayView<T> keys,
        MobaStageMarkers? stages)
        where T : unmanaged
    {
        if (stages is null)
        {
            if (typeof(T) == typeof(BFloat16))
                router.Build(stream, plan, q.Cast<BFloat16>(), keys.Cast<BFloat16>());
            else
                router.Build(stream, plan, q.Cast<ILGPU.Half>(), keys.Cast<ILGPU.Half>());
            return;
        }
        // The same three stages as Router.Build, with a marker after each.
        router.BuildCentroids(stream, plan, keys.Cast<uint>());
        stages.Mark(stream, "router.centroids");
        router.BuildTopK(stream, plan, q.Cast<uint>());
        stages.Mark(stream, "router.topk");
        router.BuildIndex(stream, plan);
        stages.Mark(stream, "router.index");
    }
}
