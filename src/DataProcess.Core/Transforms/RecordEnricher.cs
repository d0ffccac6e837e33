using System.Globalization;
using System.Text.Json;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Transforms;

/// <summary>
/// Computes a profile's enrichment fields from the raw record. Enrichment never rejects a record:
/// a value a function cannot use becomes null, because a missing extra must not cost the record itself.
/// </summary>
internal sealed class RecordEnricher
{
    /// <summary>RFC 1035: a domain name is at most 253 characters in text form.</summary>
    private const int MaxDomainLength = 253;

    /// <summary>Strings up to this length are lowercased on the stack.</summary>
    private const int StackChars = 256;

    private const string UtcFormat = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";

    private readonly Rule[] _rules;
    private readonly DateTimeOffset _asOf;
    private readonly DateTime _asOfDate;

    /// <param name="profile">The validated profile.</param>
    /// <param name="asOf">The reference time for <c>age</c>; fixed per run so a re-run gives the same ages.</param>
    public RecordEnricher(Profile profile, DateTimeOffset asOf)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _rules = new Rule[profile.Enrich.Count];
        for (var i = 0; i < _rules.Length; i++)
        {
            var rule = profile.Enrich[i];
            if (!Enum.IsDefined(rule.Method))
            {
                throw new ArgumentException($"enrich.{rule.Name}: unknown function {rule.Method}", nameof(profile));
            }

            _rules[i] = new Rule(JsonEncodedText.Encode(rule.Name), rule.Method, [.. rule.From.Segments]);
        }

        _asOf = asOf;
        _asOfDate = asOf.UtcDateTime.Date;
    }

    /// <summary>
    /// Computes every enrich rule from the RAW record (which is not modified) and writes them as one JSON object
    /// <c>{"name": value, ...}</c> in profile order. An absent or null source, or a value the function cannot use, is
    /// written as null.
    /// </summary>
    internal void WriteFields(JsonElement record, Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var rule in _rules)
        {
            writer.WritePropertyName(rule.Name);
            if (TryGetSingle(record, rule.From, out var value))
            {
                WriteValue(rule.Method, value, writer);
            }
            else
            {
                writer.WriteNullValue();
            }
        }

        writer.WriteEndObject();
    }

    private static bool TryGetSingle(JsonElement record, PathSegment[] segments, out JsonElement value)
    {
        value = record;
        foreach (var segment in segments)
        {
            if (segment.IsWildcard || value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(segment.Name!, out value))
            {
                return false;
            }
        }

        return segments.Length > 0;
    }

    private void WriteValue(EnrichmentMethod function, JsonElement value, Utf8JsonWriter writer)
    {
        Span<char> buffer = stackalloc char[StackChars];
        switch (function)
        {
            case EnrichmentMethod.EmailDomain:
                if (value.ValueKind == JsonValueKind.String)
                {
                    WriteEmailDomain(ElementText.TryGetChars(value, buffer, out var email) ? email : value.GetString().AsSpan(), writer);
                }
                else
                {
                    writer.WriteNullValue();
                }

                break;
            case EnrichmentMethod.Age:
                if (DateValues.TryParse(value, out var born) && AgeInYears(born, _asOf, _asOfDate) is { } age)
                {
                    writer.WriteNumberValue(age);
                }
                else
                {
                    writer.WriteNullValue();
                }

                break;
            case EnrichmentMethod.Year:
                if (DateValues.TryParse(value, out var date))
                {
                    writer.WriteNumberValue(date.Year);
                }
                else
                {
                    writer.WriteNullValue();
                }

                break;
            case EnrichmentMethod.CountryName:
                if (value.ValueKind == JsonValueKind.String
                    && Countries.EnglishName((ElementText.TryGetChars(value, buffer, out var code) ? code : value.GetString().AsSpan()).Trim()) is { } country)
                {
                    writer.WriteStringValue(country);
                }
                else
                {
                    writer.WriteNullValue();
                }

                break;
            case EnrichmentMethod.Utc:
                WriteUtc(DateValues.TryParse(value, out var instant), instant, writer);
                break;
            case EnrichmentMethod.Lowercase:
                if (value.ValueKind == JsonValueKind.Number)
                {
                    writer.WriteStringValue(NumberText.Canonical(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value)));
                }
                else if (value.ValueKind == JsonValueKind.String)
                {
                    WriteLowercase(value.GetString()!, writer);
                }
                else
                {
                    writer.WriteNullValue();
                }

                break;
            default:
                throw new InvalidOperationException($"enrich function {function} is not implemented");
        }
    }

    /// <summary>
    /// Whole years from <paramref name="born"/> to the reference date: minus one until this year's birthday.
    /// A 29 February birthday counts from 1 March in other years. A date after the reference time is null.
    /// </summary>
    internal static int? AgeInYears(DateTimeOffset born, DateTimeOffset asOf, DateTime asOfDate)
    {
        if (born > asOf)
        {
            return null;
        }

        // The birth date as written (its own offset); "today" in UTC.
        var birthDate = born.DateTime;
        var age = asOfDate.Year - birthDate.Year;
        if (asOfDate.Month < birthDate.Month || (asOfDate.Month == birthDate.Month && asOfDate.Day < birthDate.Day))
        {
            age--;
        }

        // A birth instant already past in UTC can still be "tomorrow" in its own zone.
        return Math.Max(age, 0);
    }

    private static void WriteEmailDomain(ReadOnlySpan<char> email, Utf8JsonWriter writer)
    {
        var text = email.Trim();
        var at = text.LastIndexOf('@');
        var domain = at < 0 ? [] : text[(at + 1)..];
        Span<char> lower = stackalloc char[MaxDomainLength];
        if (domain.Length > MaxDomainLength || !LooksLikeDomain(domain))
        {
            writer.WriteNullValue();
            return;
        }

        var length = domain.ToLowerInvariant(lower);
        writer.WriteStringValue(lower[..length]);
    }

    /// <summary>Labels of letters, digits and '-' joined by single dots, at least two labels.</summary>
    private static bool LooksLikeDomain(ReadOnlySpan<char> domain)
    {
        if (domain.IsEmpty || domain[0] == '.' || domain[^1] == '.' || domain.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        var dots = 0;
        foreach (var c in domain)
        {
            if (c == '.')
            {
                dots++;
            }
            else if (c != '-' && !char.IsLetterOrDigit(c))
            {
                return false;
            }
        }

        return dots > 0;
    }

    private static void WriteUtc(bool parsed, DateTimeOffset date, Utf8JsonWriter writer)
    {
        Span<char> text = stackalloc char[32];
        if (parsed
            && date.UtcDateTime.TryFormat(text, out var written, UtcFormat, CultureInfo.InvariantCulture))
        {
            writer.WriteStringValue(text[..written]);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static void WriteLowercase(string text, Utf8JsonWriter writer)
    {
        if (text.Length > StackChars)
        {
            writer.WriteStringValue(text.ToLowerInvariant());
            return;
        }

        Span<char> lower = stackalloc char[StackChars];
        var length = text.AsSpan().ToLowerInvariant(lower);
        writer.WriteStringValue(lower[..length]);
    }

    private sealed record Rule(JsonEncodedText Name, EnrichmentMethod Method, PathSegment[] From);
}
