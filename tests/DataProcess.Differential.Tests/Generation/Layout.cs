using System.Globalization;
using System.Text;
using DataProcess.Differential.Tests.Reference;

namespace DataProcess.Differential.Tests.Generation;

public enum NumberSpelling
{
    /// <summary><c>100</c>, <c>3.25</c>, <c>0</c>.</summary>
    Plain,

    /// <summary><c>1e2</c> and <c>1.0E+2</c>, alternately.</summary>
    Exponent,

    /// <summary><c>100.0</c>, <c>3.2500</c>, <c>-0.0</c>.</summary>
    TrailingZeros,
}

/// <summary>
/// One way to write the same records: whitespace, line ends, escapes, number spellings, a BOM, trailing lines. To add
/// a layout, add an entry to <see cref="All"/> (docs/testing.md); every differential test then runs it.
/// </summary>
public sealed record Layout(string Name)
{
    /// <summary>Indentation per level; null writes each record on one line.</summary>
    public string? Indent { get; init; }

    /// <summary>The line end inside a document, and between NDJSON lines.</summary>
    public string NewLine { get; init; } = "\n";

    /// <summary>Whitespace before and after every token (one line per record in NDJSON).</summary>
    public bool SpaceAroundTokens { get; init; }

    public string Colon { get; init; } = ":";

    public string Comma { get; init; } = ",";

    /// <summary>Every non-ASCII character as <c>\uXXXX</c> (astral ones as a surrogate pair).</summary>
    public bool EscapeNonAscii { get; init; }

    /// <summary>Every character of every string and name as <c>\uXXXX</c>.</summary>
    public bool EscapeEverything { get; init; }

    /// <summary>'/' as <c>\/</c>.</summary>
    public bool EscapeSlash { get; init; }

    public NumberSpelling Numbers { get; init; }

    public bool Bom { get; init; }

    /// <summary>Written after each NDJSON line's record (trailing spaces).</summary>
    public string LineTail { get; init; } = string.Empty;

    /// <summary>Written after the document or the last NDJSON line (blank trailing lines).</summary>
    public string FileTail { get; init; } = string.Empty;

    /// <summary>Only whitespace differs from <see cref="Compact"/>: the staged output must then be the compact one, byte for byte.</summary>
    public bool OnlyWhitespace => !EscapeNonAscii && !EscapeEverything && !EscapeSlash && Numbers == NumberSpelling.Plain;

    public static Layout Compact { get; } = new("compact");

    public static Layout PrettyCrlf { get; } = new("indent2-crlf") { Indent = "  ", NewLine = "\r\n" };

    public static IReadOnlyList<Layout> All { get; } =
    [
        Compact,
        new("indent2-lf") { Indent = "  " },
        PrettyCrlf,
        new("indent4-crlf") { Indent = "    ", NewLine = "\r\n", LineTail = "   ", FileTail = "\r\n\r\n  \r\n" },
        new("tabs-lf") { Indent = "\t", LineTail = "\t ", FileTail = "\n\n" },
        new("spaces-around-every-token") { SpaceAroundTokens = true, NewLine = "\r\n" },
        new("python-separators") { Colon = ": ", Comma = ", " },
        new("escaped-non-ascii") { EscapeNonAscii = true },
        new("escaped-everything") { EscapeEverything = true, Indent = " " },
        new("escaped-slash") { EscapeSlash = true, Comma = ", " },
        new("numbers-exponent") { Numbers = NumberSpelling.Exponent },
        new("numbers-trailing-zeros") { Numbers = NumberSpelling.TrailingZeros, Indent = "  " },
        new("bom-compact") { Bom = true },
        new("bom-indent2-crlf") { Bom = true, Indent = "  ", NewLine = "\r\n", FileTail = "\r\n" },
    ];

    /// <summary>How deep a record may nest in <paramref name="shape"/>: the reader's limit is 64 for the whole document.</summary>
    public static int MaxRecordDepth(Shape shape) => shape switch
    {
        Shape.Ndjson => 64,
        Shape.ArrayAtPath => 64 - 1 - CaseProfile.RecordsPath.Length,
        _ => 63,
    };

    public byte[] Render(IReadOnlyList<Value> records, Shape shape)
    {
        var text = new StringBuilder();
        var writer = new Writer(this, text, oneLine: shape == Shape.Ndjson);
        switch (shape)
        {
            case Shape.Ndjson:
                foreach (var record in records)
                {
                    writer.Write(record, 0);
                    text.Append(LineTail).Append(NewLine);
                }

                break;
            case Shape.ArrayAtPath:
                var data = new Obj();
                data.Set("before", new Arr([new Number("1"), new Str("x")]));
                data.Set(CaseProfile.RecordsPath[1], new Arr([.. records]));
                data.Set("after", new Obj([("k", new Str("v")), ("empty", new Obj())]));
                writer.Write(new Obj([("meta", new Obj([("count", new Number(records.Count.ToString(CultureInfo.InvariantCulture)))])), (CaseProfile.RecordsPath[0], data), ("tail", new Literal("true"))]), 0);
                break;
            default:
                writer.Write(new Arr([.. records]), 0);
                break;
        }

        text.Append(FileTail);
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        return Bom ? [.. Encoding.UTF8.Preamble, .. bytes] : bytes;
    }

    public override string ToString() => Name;

    private sealed class Writer(Layout layout, StringBuilder text, bool oneLine)
    {
        private static readonly string[] Spaces = [" ", "\t", "\r\n", "  ", "\n"];
        private int _space;
        private int _number;

        public void Write(Value value, int depth)
        {
            Space();
            switch (value)
            {
                case Obj obj:
                    Container('{', '}', obj.Properties.Count, depth, i =>
                    {
                        Space();
                        String(obj.Properties[i].Name);
                        Space();
                        text.Append(layout.Colon);
                        if (layout.Indent is not null && !oneLine && layout.Colon == ":")
                        {
                            text.Append(' ');
                        }

                        Write(obj.Properties[i].Value, depth + 1);
                    });
                    break;
                case Arr arr:
                    Container('[', ']', arr.Items.Count, depth, i => Write(arr.Items[i], depth + 1));
                    break;
                case Str str:
                    String(str.Text);
                    break;
                case Number number:
                    text.Append(Spell(number.Value));
                    break;
                case Literal literal:
                    text.Append(literal.Text);
                    break;
            }

            Space();
        }

        private void Container(char open, char close, int count, int depth, Action<int> item)
        {
            text.Append(open);
            for (var i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    text.Append(layout.Comma);
                }

                Line(depth + 1);
                item(i);
            }

            if (count > 0)
            {
                Line(depth);
            }

            text.Append(close);
        }

        private void Line(int depth)
        {
            if (layout.Indent is null)
            {
                return;
            }

            if (oneLine)
            {
                text.Append(' ');
                return;
            }

            text.Append(layout.NewLine);
            for (var i = 0; i < depth; i++)
            {
                text.Append(layout.Indent);
            }
        }

        private void Space()
        {
            if (layout.SpaceAroundTokens)
            {
                var space = Spaces[_space++ % Spaces.Length];
                text.Append(oneLine && space.Contains('\n', StringComparison.Ordinal) ? " " : space);
            }
        }

        private void String(string value)
        {
            text.Append('"');
            foreach (var c in value)
            {
                if (layout.EscapeEverything || (layout.EscapeNonAscii && c > '~'))
                {
                    text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    continue;
                }

                switch (c)
                {
                    case '"': text.Append("\\\""); break;
                    case '\\': text.Append("\\\\"); break;
                    case '\n': text.Append("\\n"); break;
                    case '\r': text.Append("\\r"); break;
                    case '\t': text.Append("\\t"); break;
                    case '\b': text.Append("\\b"); break;
                    case '\f': text.Append("\\f"); break;
                    case '/' when layout.EscapeSlash: text.Append("\\/"); break;
                    case < ' ': text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"); break;
                    default: text.Append(c); break;
                }
            }

            text.Append('"');
        }

        private string Spell(string value)
        {
            var negative = value.StartsWith('-');
            var parts = value.TrimStart('-').Split('.');
            var fraction = parts.Length > 1 ? parts[1] : string.Empty;
            switch (layout.Numbers)
            {
                case NumberSpelling.TrailingZeros:
                    return value == "0" ? "-0.0" : value + (fraction.Length > 0 ? "00" : ".0");
                case NumberSpelling.Exponent:
                    var digits = (parts[0] + fraction).TrimStart('0');
                    var scale = -fraction.Length;
                    var trimmed = digits.TrimEnd('0');
                    scale += digits.Length - trimmed.Length;
                    var sign = negative ? "-" : string.Empty;
                    if (trimmed.Length == 0)
                    {
                        return "0e0";
                    }

                    if (_number++ % 2 == 0)
                    {
                        return string.Create(CultureInfo.InvariantCulture, $"{sign}{trimmed}e{scale}");
                    }

                    var power = trimmed.Length - 1 + scale;
                    var rest = trimmed.Length > 1 ? trimmed[1..] : "0";
                    return string.Create(CultureInfo.InvariantCulture, $"{sign}{trimmed[0]}.{rest}E{(power < 0 ? '-' : '+')}{Math.Abs(power)}");
                default:
                    return value;
            }
        }
    }
}
