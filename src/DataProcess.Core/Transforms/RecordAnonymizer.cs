using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataProcess.Core.Ports;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Transforms;

/// <summary>
/// Applies a profile's anonymize rules to records in place. Holds one HMAC instance so the key
/// schedule is paid once per run, which makes it not thread-safe: use one anonymizer per stage.
/// </summary>
public sealed class RecordAnonymizer : IDisposable
{
    private readonly Rule[] _rules;
    private readonly HMACSHA256 _hmac;
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
    /// Applies every anonymize rule of the profile to the record IN PLACE. Returns null on success, or a
    /// rejection reason that names the field path and the problem and never contains a value from the
    /// record. A rejected record may be partly anonymized and must be dropped, not written.
    /// </summary>
    public string? Apply(JsonObject record)
    {
        ArgumentNullException.ThrowIfNull(record);
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var rule in _rules)
        {
            var visitor = new Visitor(this, rule);
            if (!FieldPathNavigator.VisitAll(record, rule.Segments, ref visitor))
            {
                return visitor.Reason;
            }
        }

        return null;
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _hmac.Dispose();
        }
    }

    /// <summary>Anonymizes one value. Returns null, or why the value cannot be anonymized by this rule.</summary>
    private string? Transform(Rule rule, FieldSlot slot)
    {
        if (rule.Method == AnonymizationMethod.Redact)
        {
            slot.Remove();
            return null;
        }

        var node = slot.Value;
        var kind = node?.GetValueKind() ?? JsonValueKind.Null;
        if (kind == JsonValueKind.Null)
        {
            // A missing value is not personal data; keeping null keeps the record's shape.
            return null;
        }

        switch (rule.Method)
        {
            case AnonymizationMethod.Hash:
                if (!TryGetScalarText(node!, kind, out var hashed))
                {
                    return WrongType(rule, kind, "hash expects a string or number");
                }

                slot.Replace(JsonValue.Create(Pseudonym.Compute(_hmac, hashed)));
                return null;

            case AnonymizationMethod.Mask:
                if (!TryGetScalarText(node!, kind, out var masked))
                {
                    return WrongType(rule, kind, "mask expects a string or number");
                }

                slot.Replace(JsonValue.Create(Mask(masked)));
                return null;

            case AnonymizationMethod.Year:
                if (kind is not (JsonValueKind.String or JsonValueKind.Number))
                {
                    return WrongType(rule, kind, "year expects a date string or a Unix epoch number");
                }

                if (!DateValues.TryParse(node, out var date))
                {
                    return $"field '{rule.PathText}' is not a recognisable date";
                }

                slot.Replace(JsonValue.Create(date.Year));
                return null;

            case AnonymizationMethod.IpPrefix:
                if (kind != JsonValueKind.String || !node!.AsValue().TryGetValue<string>(out var address))
                {
                    return WrongType(rule, kind, "ip-prefix expects an IP address string");
                }

                var prefix = IpPrefix.Compute(address);
                if (prefix is null)
                {
                    return $"field '{rule.PathText}' is not a valid IPv4 or IPv6 address";
                }

                slot.Replace(JsonValue.Create(prefix));
                return null;

            default:
                throw new InvalidOperationException($"anonymize method {rule.Method} is not implemented");
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

    /// <summary>The text a string or number stands for; numbers use their JSON text, e.g. a phone stored as a number.</summary>
    private static bool TryGetScalarText(JsonNode node, JsonValueKind kind, out string text)
    {
        text = string.Empty;
        return kind switch
        {
            JsonValueKind.String => node.AsValue().TryGetValue(out text!),
            JsonValueKind.Number => (text = node.ToJsonString()).Length > 0,
            _ => false,
        };
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

    private struct Visitor(RecordAnonymizer owner, Rule rule) : IFieldVisitor
    {
        public string? Reason { get; private set; }

        public bool Visit(FieldSlot slot)
        {
            Reason = owner.Transform(rule, slot);
            return Reason is null;
        }
    }
}
