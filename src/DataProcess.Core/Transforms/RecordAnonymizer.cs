using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DataProcess.Core.Ports;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Transforms;

/// <summary>
/// Applies a profile's anonymize rules to records in place. Holds one HMAC instance so the key
/// schedule is paid once per run, which makes it not thread-safe: use one anonymizer per stage.
/// </summary>
internal sealed class RecordAnonymizer : IDisposable
{
    private readonly Rule[] _rules;
    private readonly PathNode _tree = new();
    private readonly HMACSHA256 _hmac;
    private byte[] _compacted = new byte[4096];
    private bool _disposed;

    public RecordAnonymizer(Profile profile, HmacKey key)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(key);
        _rules = new Rule[profile.Anonymize.Count];
        for (var i = 0; i < _rules.Length; i++)
        {
            var rule = profile.Anonymize[i];
            if (!Enum.IsDefined(rule.Method))
            {
                throw new ArgumentException($"anonymize.{rule.Path}: unknown method {rule.Method}", nameof(profile));
            }

            _rules[i] = new Rule([.. rule.Path.Segments], rule.Path.Text, rule.Method);
            _tree.Add(_rules[i]);
        }

        // HMACSHA256 only takes an array and keeps its own copy: wipe ours straight away.
        var keyBytes = key.Bytes.ToArray();
        try
        {
            _hmac = new HMACSHA256(keyBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyBytes);
        }
    }

    /// <summary>
    /// Step one: whether every rule can anonymize the record, checked in profile order; the first problem is the
    /// rejection reason, which names the field path and never holds a value of the record. Null when
    /// <see cref="Write"/> may follow.
    /// </summary>
    internal string? Check(JsonElement record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var rule in _rules)
        {
            string? reason = null;
            if (rule.Segments.Length > 0 && !CheckWalk(record, rule, 0, ref reason))
            {
                return reason;
            }
        }

        return null;
    }

    /// <summary>
    /// Step two: writes the record with every rule applied, in one pass over the document (no node tree). Only after
    /// <see cref="Check"/> returned null.
    /// </summary>
    internal void Write(JsonElement record, Utf8JsonWriter writer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        WriteValue(record, _tree, writer);
    }

    private bool CheckWalk(JsonElement container, Rule rule, int index, ref string? reason)
    {
        var segment = rule.Segments[index];
        var isLast = index == rule.Segments.Length - 1;
        if (segment.IsWildcard)
        {
            if (container.ValueKind != JsonValueKind.Array)
            {
                return true;
            }

            foreach (var element in container.EnumerateArray())
            {
                if (isLast)
                {
                    reason = CheckValue(rule, element);
                    if (reason is not null)
                    {
                        return false;
                    }
                }
                else if (!CheckWalk(element, rule, index + 1, ref reason))
                {
                    return false;
                }
            }

            return true;
        }

        if (container.ValueKind != JsonValueKind.Object || !container.TryGetProperty(segment.Name!, out var child))
        {
            return true;
        }

        if (isLast)
        {
            reason = CheckValue(rule, child);
            return reason is null;
        }

        return CheckWalk(child, rule, index + 1, ref reason);
    }

    /// <summary>The checks of <see cref="Transform"/>, without transforming.</summary>
    private static string? CheckValue(Rule rule, JsonElement value)
    {
        var kind = value.ValueKind;
        if (rule.Method == AnonymizationMethod.Redact || kind == JsonValueKind.Null)
        {
            return null;
        }

        switch (rule.Method)
        {
            case AnonymizationMethod.Hash:
                return kind is JsonValueKind.String or JsonValueKind.Number ? null : WrongType(rule, kind, "hash expects a string or number");
            case AnonymizationMethod.Mask:
                return kind is JsonValueKind.String or JsonValueKind.Number ? null : WrongType(rule, kind, "mask expects a string or number");
            case AnonymizationMethod.Year:
                if (kind is not (JsonValueKind.String or JsonValueKind.Number))
                {
                    return WrongType(rule, kind, "year expects a date string or a Unix epoch number");
                }

                return DateValues.TryParse(value, out _) ? null : $"field '{rule.PathText}' is not a recognisable date";
            case AnonymizationMethod.IpPrefix:
                if (kind != JsonValueKind.String)
                {
                    return WrongType(rule, kind, "ip-prefix expects an IP address string");
                }

                return IpPrefixOf(value) is null ? $"field '{rule.PathText}' is not a valid IPv4 or IPv6 address" : null;
            default:
                throw new InvalidOperationException($"anonymize method {rule.Method} is not implemented");
        }
    }

    private static string? IpPrefixOf(JsonElement value)
    {
        Span<char> buffer = stackalloc char[64];
        return IpPrefix.Compute(ElementText.TryGetChars(value, buffer, out var text) ? text : value.GetString().AsSpan());
    }

    private void WriteValue(JsonElement value, PathNode? node, Utf8JsonWriter writer)
    {
        if (node is null)
        {
            WriteUntouched(value, writer);
            return;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object when node.Named.Count > 0:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject())
                {
                    var child = node.Find(property);
                    if (child is null)
                    {
                        WritePropertyName(property, writer);
                        WriteUntouched(property.Value, writer);
                        continue;
                    }

                    if (child.Rule is { Method: AnonymizationMethod.Redact })
                    {
                        continue;
                    }

                    WritePropertyName(property, writer);
                    if (child.Rule is { } rule)
                    {
                        WriteTransformed(rule, property.Value, writer);
                    }
                    else
                    {
                        WriteValue(property.Value, child, writer);
                    }
                }

                writer.WriteEndObject();
                return;

            case JsonValueKind.Array when node.Wildcard is { } wildcard:
                writer.WriteStartArray();
                foreach (var element in value.EnumerateArray())
                {
                    if (wildcard.Rule is { Method: AnonymizationMethod.Redact })
                    {
                        continue;
                    }

                    if (wildcard.Rule is { } rule)
                    {
                        WriteTransformed(rule, element, writer);
                    }
                    else
                    {
                        WriteValue(element, wildcard, writer);
                    }
                }

                writer.WriteEndArray();
                return;

            default:
                WriteUntouched(value, writer);
                return;
        }
    }

    /// <summary>
    /// A value no rule touches goes out as the bytes it came in: the reader already checked them, and
    /// re-encoding every token of every record was most of this stage's time. jsonb normalises the
    /// escaping when the record is loaded. An object or array of a pretty-printed source holds the source's
    /// whitespace (newlines too, which would split the staged line): it goes out compacted, so the staged line
    /// is the one a compact source gives, byte for byte. A scalar never holds insignificant whitespace.
    /// </summary>
    private void WriteUntouched(JsonElement value, Utf8JsonWriter writer)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if ((value.ValueKind is JsonValueKind.Object or JsonValueKind.Array) && CompactJson.IndexOfWhitespace(raw) >= 0)
        {
            if (_compacted.Length < raw.Length)
            {
                _compacted = new byte[Math.Max(raw.Length, _compacted.Length * 2)];
            }

            raw = _compacted.AsSpan(0, CompactJson.Copy(raw, _compacted));
        }

        writer.WriteRawValue(raw, skipInputValidation: true);
    }

    private static void WritePropertyName(JsonProperty property, Utf8JsonWriter writer)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.IndexOf((byte)'\\') < 0)
        {
            writer.WritePropertyName(raw);
        }
        else
        {
            writer.WritePropertyName(property.Name);
        }
    }

    /// <summary>What <see cref="Transform"/> replaces a checked value with, written straight to the output.</summary>
    private void WriteTransformed(Rule rule, JsonElement value, Utf8JsonWriter writer)
    {
        var kind = value.ValueKind;
        if (kind == JsonValueKind.Null)
        {
            writer.WriteNullValue();
            return;
        }

        switch (rule.Method)
        {
            case AnonymizationMethod.Hash:
                Span<byte> hex = stackalloc byte[64];
                if (kind == JsonValueKind.Number)
                {
                    // The number's canonical text, so 1e2 and 100 get one pseudonym (raw when already canonical).
                    var number = JsonMarshal.GetRawUtf8Value(value);
                    Pseudonym.ComputeUtf8(_hmac, NumberText.IsCanonical(number) ? number : Encoding.UTF8.GetBytes(NumberText.Canonical(number)), hex);
                    writer.WriteStringValue(hex);
                }
                else if (ElementText.TryGetUtf8(value, out var utf8))
                {
                    Pseudonym.ComputeUtf8(_hmac, utf8, hex);
                    writer.WriteStringValue(hex);
                }
                else
                {
                    writer.WriteStringValue(Pseudonym.Compute(_hmac, value.GetString()));
                }

                return;
            case AnonymizationMethod.Mask:
                writer.WriteStringValue(Mask(kind == JsonValueKind.Number ? NumberText.Canonical(JsonMarshal.GetRawUtf8Value(value)) : value.GetString()));
                return;
            case AnonymizationMethod.Year:
                DateValues.TryParse(value, out var date);
                writer.WriteNumberValue(date.Year);
                return;
            case AnonymizationMethod.IpPrefix:
                writer.WriteStringValue(IpPrefixOf(value));
                return;
            default:
                throw new InvalidOperationException($"anonymize method {rule.Method} is not implemented");
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _hmac.Dispose();
        }
    }

    /// <summary>
    /// All but the last four runes become '*'; four or fewer: all of them. Counting runes keeps an emoji or
    /// other astral character from being split into half a surrogate pair.
    /// </summary>
    internal static string Mask(ReadOnlySpan<char> text)
    {
        const int Kept = 4;
        var keepFrom = text.Length;
        var kept = 0;
        while (kept < Kept && keepFrom > 0)
        {
            keepFrom--;
            if (char.IsLowSurrogate(text[keepFrom]) && keepFrom > 0 && char.IsHighSurrogate(text[keepFrom - 1]))
            {
                keepFrom--;
            }

            kept++;
        }

        var hidden = 0;
        for (var i = 0; i < keepFrom; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < keepFrom && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }

            hidden++;
        }

        if (hidden == 0)
        {
            return new string('*', kept);
        }

        var tail = text[keepFrom..];
        var length = hidden + tail.Length;
        var buffer = length <= 256 ? stackalloc char[256] : new char[length];
        buffer[..hidden].Fill('*');
        tail.CopyTo(buffer[hidden..]);
        return new string(buffer[..length]);
    }

    // Only the kind of the value is named, never the value: reasons are stored and logged.
    private static string WrongType(Rule rule, JsonValueKind kind, string expectation) =>
        $"field '{rule.PathText}' is {Describe(kind)}; {expectation}";

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "an unsupported value",
    };

    private sealed record Rule(PathSegment[] Segments, string PathText, AnonymizationMethod Method);

    /// <summary>The rules as a tree of path steps, so one walk over a record applies them all.</summary>
    private sealed class PathNode
    {
        public List<(string Name, PathNode Node)> Named { get; } = [];

        public PathNode? Wildcard { get; private set; }

        /// <summary>The rule that ends here (the profile refuses overlapping paths, so nothing goes on below it).</summary>
        public Rule? Rule { get; private set; }

        public void Add(Rule rule)
        {
            var node = this;
            foreach (var segment in rule.Segments)
            {
                node = node.Step(segment);
            }

            node.Rule = rule;
        }

        public PathNode? Find(JsonProperty property)
        {
            foreach (var (name, node) in Named)
            {
                if (property.NameEquals(name))
                {
                    return node;
                }
            }

            return null;
        }

        private PathNode Step(PathSegment segment)
        {
            if (segment.IsWildcard)
            {
                return Wildcard ??= new PathNode();
            }

            foreach (var (name, node) in Named)
            {
                if (name == segment.Name)
                {
                    return node;
                }
            }

            var added = new PathNode();
            Named.Add((segment.Name!, added));
            return added;
        }
    }

}
