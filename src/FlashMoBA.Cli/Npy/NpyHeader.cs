using System.Globalization;
using System.Text;

namespace FlashMoBA.Cli.Npy;

/// <summary>
/// The header dictionary of a .npy file, a Python literal such as
/// <c>{'descr': '&lt;f2', 'fortran_order': False, 'shape': (3, 4), }</c>, parsed without a Python evaluator.
/// </summary>
/// <param name="Descr">dtype descriptor, e.g. "&lt;f4".</param>
/// <param name="FortranOrder">True when the data is column-major.</param>
/// <param name="Shape">Dimensions.</param>
internal sealed record NpyHeader(string Descr, bool FortranOrder, int[] Shape)
{
    /// <summary>Formats the dictionary as numpy writes it (keys sorted, trailing comma).</summary>
    public string Format()
    {
        string shape = Shape.Length == 1
            ? $"({Shape[0].ToString(CultureInfo.InvariantCulture)},)"
            : "(" + string.Join(", ", Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        return $"{{'descr': '{Descr}', 'fortran_order': {(FortranOrder ? "True" : "False")}, 'shape': {shape}, }}";
    }

    /// <summary>Parses the dictionary text.</summary>
    /// <exception cref="NpyFormatException">The text is not a dictionary with exactly the keys descr, fortran_order and shape.</exception>
    public static NpyHeader Parse(string text)
    {
        var reader = new Reader(text);
        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        reader.Expect('{');
        while (true)
        {
            reader.SkipSpace();
            if (reader.TryTake('}')) break;
            string key = reader.QuotedString();
            reader.Expect(':');
            switch (key)
            {
                case "descr" when descr is null:
                    descr = reader.QuotedString();
                    break;
                case "fortran_order" when fortran is null:
                    fortran = reader.Boolean();
                    break;
                case "shape" when shape is null:
                    shape = reader.IntTuple();
                    break;
                default:
                    throw new NpyFormatException($"header has an unexpected or repeated key '{key}'");
            }
            reader.SkipSpace();
            if (reader.TryTake(',')) continue;
            reader.Expect('}');
            break;
        }
        reader.ExpectEnd();
        if (descr is null || fortran is null || shape is null)
            throw new NpyFormatException("header must contain the keys 'descr', 'fortran_order' and 'shape'");
        return new NpyHeader(descr, fortran.Value, shape);
    }

    private sealed class Reader(string text)
    {
        private int _pos;

        public void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        public bool TryTake(char c)
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == c)
            {
                _pos++;
                return true;
            }
            return false;
        }

        public void Expect(char c)
        {
            if (!TryTake(c)) throw Error($"expected '{c}'");
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_pos != text.Length) throw Error("unexpected text after the dictionary");
        }

        public string QuotedString()
        {
            SkipSpace();
            if (_pos >= text.Length || (text[_pos] != '\'' && text[_pos] != '"')) throw Error("expected a quoted string");
            char quote = text[_pos++];
            var value = new StringBuilder();
            while (_pos < text.Length && text[_pos] != quote) value.Append(text[_pos++]);
            if (_pos >= text.Length) throw Error("unterminated string");
            _pos++;
            return value.ToString();
        }

        public bool Boolean()
        {
            SkipSpace();
            if (Matches("True")) return true;
            if (Matches("False")) return false;
            throw Error("expected True or False");
        }

        public int[] IntTuple()
        {
            Expect('(');
            var dims = new List<int>();
            while (true)
            {
                if (TryTake(')')) break;
                dims.Add(Integer());
                if (TryTake(',')) continue;
                Expect(')');
                break;
            }
            return [.. dims];
        }

        private int Integer()
        {
            SkipSpace();
            int start = _pos;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
            if (_pos == start) throw Error("expected a non-negative integer dimension");
            string digits = text[start.._pos];
            if (_pos < text.Length && text[_pos] == 'L') _pos++; // Python 2 long suffix in old files
            return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
                ? value
                : throw Error($"dimension {digits} is too large");
        }

        private bool Matches(string word)
        {
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0) return false;
            _pos += word.Length;
            return true;
        }

        private NpyFormatException Error(string what) =>
            new($"malformed header ({what} at character {_pos}): {text.Trim()}");
    }
}
