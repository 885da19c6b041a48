using FlashMoBA.KeyConvBench;

return args switch
{
    ["ptx", var directory] => PtxDump.Run(directory),
    ["gpu", .. var rest] => GpuRun.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: FlashMoBA.KeyConvBench ptx DIR | gpu [--cpu]");
    return 2;
}
