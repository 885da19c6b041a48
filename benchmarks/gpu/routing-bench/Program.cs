using FlashMoBA.RoutingBench;

// --cpu runs a tiny smoke of the same code on ILGPU's CPU accelerator (to test the harness itself).
bool cpu = args.Contains("--cpu");
var rest = args.Where(a => a != "--cpu").ToArray();
return rest switch
{
    ["verify"] => GpuVerify.Run(cpu),
    ["bench", .. var sizes] => GpuBench.Run(sizes, cpu),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: FlashMoBA.RoutingBench [--cpu] verify | bench [N ...]");
    return 2;
}
