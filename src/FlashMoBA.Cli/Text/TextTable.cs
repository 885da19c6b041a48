namespace FlashMoBA.Cli.Text;

/// <summary>A plain-text table with a header row and left-aligned, space-padded columns.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    /// <summary>Column headers.</summary>
    public IReadOnlyList<string> Headers => headers;

    /// <summary>Rows added so far.</summary>
    public IReadOnlyList<string[]> Rows => _rows;

    /// <summary>Appends a row; it must have one cell per header.</summary>
    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
            throw new ArgumentException($"row has {cells.Length} cells but the table has {headers.Length} columns.", nameof(cells));
        _rows.Add(cells);
    }

    /// <summary>Writes the header, a rule and the rows.</summary>
    public void Write(TextWriter writer)
    {
        var widths = new int[headers.Length];
        for (int c = 0; c < headers.Length; c++)
        {
            widths[c] = headers[c].Length;
            foreach (var row in _rows) widths[c] = Math.Max(widths[c], row[c].Length);
        }
        WriteRow(writer, headers, widths);
        writer.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows) WriteRow(writer, row, widths);
    }

    private static void WriteRow(TextWriter writer, IReadOnlyList<string> cells, int[] widths) =>
        writer.WriteLine(string.Join("  ", cells.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
}
