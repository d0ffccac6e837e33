namespace DataProcess.Core.Profiles;

/// <summary>Where the records are in the input.</summary>
internal sealed record RecordsLocation
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
