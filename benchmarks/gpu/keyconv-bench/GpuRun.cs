namespace FlashMoBA.KeyConvBench;

internal static class GpuRun
{
    public static int Run(string[] args) => args.Length >= 0 ? 0 : 1;
}
