using System.Text.RegularExpressions;

namespace DataProcess.Core.Profiles;

/// <summary>
/// What to read, what is personal data and what to add. Built only by <see cref="ProfileLoader"/>,
/// so every instance has passed validation.
/// </summary>
public sealed partial class Profile
{
    internal Profile(
        string dataset,
        RecordsLocation records,
        FieldPath id,
        IReadOnlyList<FieldPath> require,
        IReadOnlyList<AnonymizationRule> anonymize,
        IReadOnlyList<EnrichmentRule> enrich,
        double? maxRejectRatio = null)
    {
        Dataset = dataset;
        Records = records;
        Id = id;
        Require = require;
        Anonymize = anonymize;
        Enrich = enrich;
        MaxRejectRatio = maxRejectRatio;
        Hash = ProfileHash.Compute(this);
    }

    /// <summary>Longest accepted record id, in characters.</summary>
    internal const int MaxIdLength = 256;

    public string Dataset { get; }

    internal RecordsLocation Records { get; }

    internal FieldPath Id { get; }

    internal IReadOnlyList<FieldPath> Require { get; }

    internal IReadOnlyList<AnonymizationRule> Anonymize { get; }

    internal IReadOnlyList<EnrichmentRule> Enrich { get; }

    /// <summary>The largest share of a file's records that may be rejected (0 to 1); above it the run fails. Null: no limit.</summary>
    internal double? MaxRejectRatio { get; }

    /// <summary>
    /// The canonical hash of what the profile says (<see cref="ProfileHash"/>), part of a run's identity: key order,
    /// whitespace and the order of rules do not change it; any rule does.
    /// </summary>
    internal string Hash { get; }

    /// <summary>Dataset names are plain identifiers: they end up in the database, logs and object keys.</summary>
    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}$", RegexOptions.CultureInvariant)]
    internal static partial Regex DatasetName();

    /// <summary>Enrichment fields are top-level names a downstream SQL user can type.</summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    internal static partial Regex EnrichmentName();
}
