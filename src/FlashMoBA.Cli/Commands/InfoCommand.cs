using System.Globalization;
using FlashMoBA.Cli.Devices;
using FlashMoBA.Kernels.Runtime;
using FlashMoBA.Cli.Text;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace FlashMoBA.Cli.Commands;

/// <summary><c>flashmoba info</c>: prints a table of accelerators and which one <c>--device auto</c> picks.</summary>
internal sealed class InfoCommand(InfoOptions options, TextWriter stdout, TextWriter stderr)
{
    /// <summary>Runs the verb.</summary>
    public int Execute()
    {
        _ = options;
        _ = stderr;
        // Auto sees every device; it also opens the default one, proving it works.
        using var session = DeviceSession.Open(DeviceChoice.Auto, profiling: false);
        var context = session.Context;
        var cuda = context.GetCudaDevices();
        var chosen = AcceleratorHost.FirstSupportedCuda(context);
        var table = new TextTable("#", "type", "name", "arch", "SMs", "memory", "driver", "default");
        int index = 0, chosenIndex = -1;
        foreach (var device in cuda)
        {
            if (ReferenceEquals(device, chosen)) chosenIndex = index;
            table.Add(
                index.ToString(CultureInfo.InvariantCulture), "cuda", device.Name,
                device.Architecture is { } arch ? $"sm_{arch.Major}{arch.Minor}" : "unknown",
                device.NumMultiprocessors.ToString(CultureInfo.InvariantCulture),
                Units.Bytes(device.MemorySize),
                $"{device.DriverVersion.Major}.{device.DriverVersion.Minor}",
                ReferenceEquals(device, chosen) ? "yes" : AcceleratorHost.IsSupported(device) ? "" : "no (needs sm_90+)");
            index++;
        }
        var cpu = context.GetCPUDevices()[0];
        table.Add(index.ToString(CultureInfo.InvariantCulture), "cpu", "ILGPU CPU accelerator",
            $"{cpu.WarpSize}-lane warps", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " cores",
            Units.Bytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes), "-", chosen is null ? "yes" : "");
        table.Write(stdout);
        stdout.WriteLine(chosen is not null
            ? $"Default device: cuda #{chosenIndex} ({chosen.Name})."
            : cuda.Count == 0
                ? "No CUDA device found: verbs run on the CPU accelerator (small sizes)."
                : "No CUDA device of compute capability 9.0 or newer: verbs run on the CPU accelerator (small sizes).");
        return ExitCodes.Ok;
    }
}
