namespace DataProcess.Core.Profiles;

/// <summary>How a personal field is made safe.</summary>
public enum AnonymizationMethod
{
    /// <summary>Keyed HMAC-SHA256 pseudonym (lowercase hex): deterministic for a key, so joins still work.</summary>
    Hash,

    /// <summary>Every character but the last four replaced by '*'; four or fewer: all replaced.</summary>
    Mask,

    /// <summary>The field is removed.</summary>
    Redact,

    /// <summary>A date of any common format becomes its year (a number).</summary>
    Year,

    /// <summary>An IPv4 address becomes its /24 network, an IPv6 address its /48 network.</summary>
    IpPrefix,
}

/// <summary>What an enrichment field is computed with.</summary>
public enum EnrichmentFunction
{
    EmailDomain,
    Age,
    Year,
    CountryName,
    Utc,
    Lowercase,
}

public sealed record AnonymizationRule(FieldPath Path, AnonymizationMethod Method);

/// <summary>Adds the top-level field <paramref name="Name"/> computed by <paramref name="Function"/> from <paramref name="From"/>.</summary>
public sealed record EnrichmentRule(string Name, EnrichmentFunction Function, FieldPath From);

/// <summary>Where the records are in the input.</summary>
public sealed record RecordsLocation
{
    private RecordsLocation(IReadOnlyList<string>? segments, string text)
    {
        Segments = segments;
        Text = text;
    }

    /// <summary>Not given: a top-level array or NDJSON, decided from the content.</summary>
    public static RecordsLocation Detect { get; } = new(null, "(detect)");

    /// <summary><c>$</c>: the document is an array of records.</summary>
    public static RecordsLocation TopLevelArray { get; } = new([], "$");

    /// <summary><c>null</c> to detect; empty for a top-level array; else the property names down to the array.</summary>
    public IReadOnlyList<string>? Segments { get; }

    public string Text { get; }

    public static RecordsLocation AtPath(IReadOnlyList<string> segments, string text) =>
        segments.Count == 0 ? TopLevelArray : new RecordsLocation(segments, text);

    public override string ToString() => Text;
}
