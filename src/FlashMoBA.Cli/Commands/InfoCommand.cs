using System.Globalization;
using FlashMoBA.Cli.Devices;
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
        var table = new TextTable("#", "type", "name", "arch", "SMs", "memory", "driver", "default");
        int index = 0;
        foreach (var device in cuda)
        {
            table.Add(
                index.ToString(CultureInfo.InvariantCulture), "cuda", device.Name,
                device.Architecture is { } arch ? $"sm_{arch.Major}{arch.Minor}" : "unknown",
                device.NumMultiprocessors.ToString(CultureInfo.InvariantCulture),
                Units.Bytes(device.MemorySize),
                $"{device.DriverVersion.Major}.{device.DriverVersion.Minor}",
                index == 0 ? "yes" : "");
            index++;
        }
        var cpu = context.GetCPUDevices()[0];
        table.Add(index.ToString(CultureInfo.InvariantCulture), "cpu", "ILGPU CPU accelerator",
            $"{cpu.WarpSize}-lane warps", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) + " cores",
            Units.Bytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes), "-", cuda.Count == 0 ? "yes" : "");
        table.Write(stdout);
        stdout.WriteLine(cuda.Count == 0
            ? "No CUDA device found: verbs run on the CPU accelerator (small sizes)."
            : $"Default device: cuda #0 ({cuda[0].Name}).");
        return ExitCodes.Ok;
    }
}
