using FlashMoBA.Kernels.Attention;
using FlashMoBA.Kernels.KeyConv;
using FlashMoBA.Kernels.Runtime;
using ILGPU;
using ILGPU.Runtime;

namespace FlashMoBA;

/// <summary>
/// Gradients of MoBA attention w.r.t. its inputs (routing is not differentiated), produced by
/// <see cref="MobaAttention.Backward{T}(DeviceTensor{T}, DeviceTensor{T}, DeviceTensor{T}, DeviceTensor{T}, MobaForwardResult{T}, VarlenBatch, MobaConfig, DeviceTensor{float}?)"/>.
/// Owns its device memory; dispose it when done. It can be passed back to a later backward of the
/// same problem to reuse its buffers.
/// </summary>
/// <typeparam name="T">Storage type: <see cref="System.Half"/>, <see cref="ILGPU.Half"/> or <see cref="BFloat16"/>.</typeparam>
public sealed class MobaGradients<T> : IDisposable
    where T : unmanaged
{
    private MobaGradients(MobaProblem problem, DeviceTensor<T> dq, DeviceTensor<T> dk, DeviceTensor<T> dv,
        DeviceTensor<float>? dw, MemoryBuffer1D<T, Stride1D.Dense>? dConvolvedKeys,
        MemoryBuffer1D<float, Stride1D.Dense>? dwPartials, int partials)
    {
        Problem = problem;
        DQ = dq;
        DK = dk;
        DV = dv;
        DW = dw;
        DConvolvedKeys = dConvolvedKeys;
        DWPartials = dwPartials;
        Partials = partials;
    }

    /// <summary>dL/dq <c>[totalQ, H, d]</c>.</summary>
    public DeviceTensor<T> DQ { get; }

    /// <summary>dL/dk <c>[totalK, Hk, d]</c>, summed over the query heads of each GQA group (through the key
    /// convolution when the configuration has one).</summary>
    public DeviceTensor<T> DK { get; }

    /// <summary>dL/dv <c>[totalK, Hk, d]</c>, summed over the query heads of each GQA group.</summary>
    public DeviceTensor<T> DV { get; }

    /// <summary>dL/dw of the key convolution's weights <c>[W, Hk, d]</c> in fp32, or null without key convolution.</summary>
    public DeviceTensor<float>? DW { get; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsDisposed { get; private set; }

    internal MobaProblem Problem { get; }

    /// <summary>dL/dk′ (the convolved keys), the attention backward's key gradient before the convolution's backward.</summary>
    internal MemoryBuffer1D<T, Stride1D.Dense>? DConvolvedKeys { get; }

    /// <summary>Scratch of the key convolution's dW reduction.</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense>? DWPartials { get; }

    /// <summary>Rows of <see cref="DWPartials"/>.</summary>
    internal int Partials { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        DQ.Dispose();
        DK.Dispose();
        DV.Dispose();
        DW?.Dispose();
        DConvolvedKeys?.Dispose();
        DWPartials?.Dispose();
    }

    /// <summary>Allocates every buffer of a backward of <paramref name="problem"/>.</summary>
    internal static MobaGradients<T> Allocate(Accelerator accelerator, MobaProblem problem)
    {
        var d = problem.Dims;
        using var scope = new AllocationScope();
        var dq = scope.Track(DeviceTensor<T>.Allocate(accelerator, d.QShape));
        var dk = scope.Track(DeviceTensor<T>.Allocate(accelerator, d.KvShape));
        var dv = scope.Track(DeviceTensor<T>.Allocate(accelerator, d.KvShape));
        if (problem.KeyConv is not { } conv)
            return scope.Release(new MobaGradients<T>(problem, dq, dk, dv, null, null, null, 0));
        var dw = scope.Track(DeviceTensor<float>.Allocate(accelerator, conv.Width, d.HeadsKv, d.HeadDim));
        var dKeys = scope.Track(accelerator.Allocate1D<T>(conv.KeyElements));
        int partials = KeyConvolution.DefaultPartials(accelerator, problem.Config.ElementType, conv);
        var scratch = scope.Track(accelerator.Allocate1D<float>((long)partials * conv.WeightElements));
        return scope.Release(new MobaGradients<T>(problem, dq, dk, dv, dw, dKeys, scratch, partials));
    }

    /// <summary>Throws unless these gradients are alive and were made for <paramref name="problem"/>.</summary>
    internal void RequireProblem(MobaProblem problem, string paramName)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Problem.RequireSame(problem, paramName);
    }
}
