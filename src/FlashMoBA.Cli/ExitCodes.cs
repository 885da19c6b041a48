namespace FlashMoBA.Cli;

/// <summary>Process exit codes of every verb.</summary>
internal static class ExitCodes
{
    /// <summary>The verb completed and every check passed.</summary>
    public const int Ok = 0;

    /// <summary>A check failed (a verify row above tolerance, a kernel error at run time).</summary>
    public const int CheckFailed = 1;

    /// <summary>The arguments or input files are invalid; a one-line reason went to stderr.</summary>
    public const int BadArguments = 2;
}
