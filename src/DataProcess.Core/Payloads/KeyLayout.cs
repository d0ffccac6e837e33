using DataProcess.Core.Profiles;

namespace DataProcess.Core.Payloads;

/// <summary>
/// Where objects live (the same prefixes the Terraform scopes its policies to). An upload lands at
/// <c>incoming/&lt;dataset&gt;/&lt;yyyy&gt;/&lt;mm&gt;/&lt;dd&gt;/&lt;uuid&gt;/&lt;name&gt;</c>; the dataset's profile is
/// <c>profiles/&lt;dataset&gt;.json</c> in the staging bucket. The profile key is derived from the object key the
/// way workflow.asl.json's DescribeRun derives it (the second non-empty '/'-separated segment), so the local
/// stack and the state machine agree on every key, valid or not.
/// </summary>
public static class KeyLayout
{
    /// <summary>Uploads land here; an object created under it starts a run.</summary>
    public const string IncomingPrefix = "incoming/";

    /// <summary>The staging bucket's prefix for profiles: <c>profiles/&lt;dataset&gt;.json</c>.</summary>
    public const string ProfilePrefix = "profiles/";

    /// <summary>The failure path moves a source it could not load here (<c>incoming/x</c> → <c>quarantine/x</c>).</summary>
    internal const string QuarantinePrefix = "quarantine/";

    /// <summary>Whether <paramref name="name"/> is a dataset name: 1-63 of a-z, 0-9, '_' or '-', starting with a letter.</summary>
    public static bool IsDatasetName(string name) => Profile.DatasetName().IsMatch(name);

    /// <summary>The prefix every upload of <paramref name="dataset"/> lands under.</summary>
    public static string IncomingPrefixOf(string dataset) => $"{IncomingPrefix}{dataset}/";

    /// <summary>The profile key of <paramref name="dataset"/> in the staging bucket.</summary>
    public static string ProfileKey(string dataset) => $"{ProfilePrefix}{dataset}.json";

    /// <summary>
    /// The dataset segment of an object key (<c>incoming/orders/…</c> → <c>orders</c>), as the state machine reads it:
    /// the second non-empty segment. Null when the key has none. It may not be a valid dataset name (an object
    /// uploaded before datasets existed has a year there); its profile then does not exist and the run fails.
    /// </summary>
    public static string? DatasetSegment(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split('/', 3, StringSplitOptions.RemoveEmptyEntries);
        return segments.Length >= 2 ? segments[1] : null;
    }

    /// <summary>The profile of the object at <paramref name="key"/> (see <see cref="DatasetSegment"/>).</summary>
    public static string ProfileKeyOf(string key) =>
        ProfileKey(DatasetSegment(key) ?? throw new ArgumentException($"{key}: no dataset segment (expected {IncomingPrefix}<dataset>/…)", nameof(key)));

    /// <summary>The dataset a key belongs to when its segment is a dataset name (for the ledger of a failed run).</summary>
    internal static string? DatasetOf(string key) => DatasetSegment(key) is { } segment && IsDatasetName(segment) ? segment : null;
}
