namespace FlashMoBA.Cli.Bench;

/// <summary>
/// Sweep progress on stderr: a redrawn bar on an interactive terminal, one line per step when stderr
/// is redirected (logs), so stdout keeps only the table.
/// </summary>
internal sealed class ProgressBar(TextWriter writer, int total, bool interactive)
{
    private const int Width = 30;
    private int _done;

    /// <summary>Reports that a step starts.</summary>
    public void Step(string what)
    {
        if (interactive)
        {
            int filled = total == 0 ? Width : _done * Width / total;
            writer.Write($"\r[{new string('#', filled)}{new string('.', Width - filled)}] {_done}/{total} {what}".PadRight(100));
        }
        else
        {
            writer.WriteLine($"bench: [{_done + 1}/{total}] {what}");
        }
        writer.Flush();
    }

    /// <summary>Reports that a step finished.</summary>
    public void Done() => _done++;

    /// <summary>Clears the bar.</summary>
    public void Finish()
    {
        if (!interactive) return;
        writer.Write("\r" + new string(' ', 100) + "\r");
        writer.Flush();
    }
}
