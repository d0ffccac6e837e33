namespace DataProcess.Core.Profiles;

/// <summary>What an enrichment field is computed with.</summary>
internal enum EnrichmentMethod
{
    EmailDomain,
    Age,
    Year,
    CountryName,
    Utc,
    Lowercase,
}

/// <summary>Adds the top-level field <paramref name="Name"/> computed by <paramref name="Method"/> from <paramref name="From"/>.</summary>
internal sealed record EnrichmentRule(string Name, EnrichmentMethod Method, FieldPath From);
