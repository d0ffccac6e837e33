using System.Text.Json;

namespace DataProcess.Core.Profiles;

/// <summary>Reads and validates a profile. Every mistake is refused with a message naming the field.</summary>
public static class ProfileLoader
{
    private static readonly Dictionary<string, AnonymizationMethod> AnonymizationMethods = new(StringComparer.Ordinal)
    {
        ["hash"] = AnonymizationMethod.Hash,
        ["mask"] = AnonymizationMethod.Mask,
        ["redact"] = AnonymizationMethod.Redact,
        ["year"] = AnonymizationMethod.Year,
        ["ip-prefix"] = AnonymizationMethod.IpPrefix,
    };

    private static readonly Dictionary<string, EnrichmentMethod> EnrichmentMethods = new(StringComparer.Ordinal)
    {
        ["email-domain"] = EnrichmentMethod.EmailDomain,
        ["age"] = EnrichmentMethod.Age,
        ["year"] = EnrichmentMethod.Year,
        ["country-name"] = EnrichmentMethod.CountryName,
        ["utc"] = EnrichmentMethod.Utc,
        ["lowercase"] = EnrichmentMethod.Lowercase,
    };

    private static readonly string[] TopLevelFields = ["dataset", "records", "id", "require", "anonymize", "enrich", "maxRejectRatio"];

    /// <summary>How a profile spells <paramref name="method"/>.</summary>
    internal static string Name(AnonymizationMethod method) => AnonymizationMethods.First(m => m.Value == method).Key;

    /// <summary>How a profile spells <paramref name="method"/>.</summary>
    internal static string Name(EnrichmentMethod method) => EnrichmentMethods.First(f => f.Value == method).Key;

    public static Profile LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ProfileException($"profile {path}: cannot be read: {e.Message}");
        }

        return Parse(bytes, System.IO.Path.GetFileName(path));
    }

    internal static async Task<Profile> LoadAsync(Stream stream, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken);
        return Parse(buffer.ToArray(), name);
    }

    internal static Profile Parse(ReadOnlySpan<byte> utf8Json, string name)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new ProfileException($"profile {name}: not valid JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}");
        }

        using (document)
        {
            return Build(document.RootElement, name);
        }
    }

    private static Profile Build(JsonElement root, string name)
    {
        ProfileException Refuse(string field, string problem) => new($"profile {name}: {field}: {problem}");

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ProfileException($"profile {name}: must be a JSON object");
        }

        var fields = Properties(root, "(top level)", Refuse);
        foreach (var key in fields.Keys)
        {
            if (Array.IndexOf(TopLevelFields, key) < 0)
            {
                throw Refuse(key, $"unknown field (expected one of: {string.Join(", ", TopLevelFields)})");
            }
        }

        // Each section is read in the order a later one depends on: anonymize checks against the id, enrich against
        // the id, the anonymized fields and the required ones.
        var dataset = ReadDataset(fields, Refuse);
        var records = ReadRecords(fields, Refuse);
        var id = ReadId(fields, Refuse);
        var require = ReadRequire(fields, Refuse);
        var anonymize = ReadAnonymize(fields, id, Refuse);
        var enrich = ReadEnrich(fields, id, require, anonymize, Refuse);
        var maxRejectRatio = ReadMaxRejectRatio(fields, Refuse);
        return new Profile(dataset, records, id, require, anonymize, enrich, maxRejectRatio);
    }

    private static string ReadDataset(Dictionary<string, JsonElement> fields, Func<string, string, ProfileException> refuse)
    {
        if (!fields.TryGetValue("dataset", out var datasetElement))
        {
            throw refuse("dataset", "is required");
        }

        var dataset = datasetElement.ValueKind == JsonValueKind.String ? datasetElement.GetString()! : throw refuse("dataset", "must be a string");
        if (!Profile.DatasetName().IsMatch(dataset))
        {
            throw refuse("dataset", "must be 1-63 characters of a-z, 0-9, '_' or '-', starting with a letter");
        }

        return dataset;
    }

    private static RecordsLocation ReadRecords(Dictionary<string, JsonElement> fields, Func<string, string, ProfileException> refuse)
    {
        var records = RecordsLocation.Detect;
        if (fields.TryGetValue("records", out var recordsElement) && recordsElement.ValueKind != JsonValueKind.Null)
        {
            if (recordsElement.ValueKind != JsonValueKind.String)
            {
                throw refuse("records", "must be a string such as \"$\" or \"$.result\"");
            }

            records = ParseRecords(recordsElement.GetString()!) ?? throw refuse("records", $"'{recordsElement.GetString()}' is not \"$\" or a dotted path to an array such as \"$.result\" or \"$.data.items\"");
        }

        return records;
    }

    private static FieldPath ReadId(Dictionary<string, JsonElement> fields, Func<string, string, ProfileException> refuse)
    {
        if (!fields.TryGetValue("id", out var idElement))
        {
            throw refuse("id", "is required");
        }

        var id = ReadPath(idElement, "id", refuse);
        if (id.HasWildcard)
        {
            throw refuse("id", $"'{id}' has [*]; a record has exactly one id");
        }

        return id;
    }

    private static List<FieldPath> ReadRequire(Dictionary<string, JsonElement> fields, Func<string, string, ProfileException> refuse)
    {
        var require = new List<FieldPath>();
        if (fields.TryGetValue("require", out var requireElement))
        {
            if (requireElement.ValueKind != JsonValueKind.Array)
            {
                throw refuse("require", "must be an array of field paths");
            }

            var index = 0;
            foreach (var item in requireElement.EnumerateArray())
            {
                var field = $"require[{index++}]";
                var path = ReadPath(item, field, refuse);
                if (path.HasWildcard)
                {
                    throw refuse(field, $"'{path}' has [*]; require names single fields");
                }

                if (require.Contains(path))
                {
                    throw refuse(field, $"'{path}' is listed twice");
                }

                require.Add(path);
            }
        }

        return require;
    }

    private static List<AnonymizationRule> ReadAnonymize(Dictionary<string, JsonElement> fields, FieldPath id, Func<string, string, ProfileException> refuse)
    {
        var anonymize = new List<AnonymizationRule>();
        if (fields.TryGetValue("anonymize", out var anonymizeElement))
        {
            if (anonymizeElement.ValueKind != JsonValueKind.Object)
            {
                throw refuse("anonymize", "must be an object of \"path\": \"method\"");
            }

            foreach (var (key, value) in Properties(anonymizeElement, "anonymize", refuse))
            {
                var field = $"anonymize.{key}";
                if (!FieldPath.TryParse(key, out var path, out var error))
                {
                    throw refuse(field, $"bad path: {error}");
                }

                if (value.ValueKind != JsonValueKind.String || !AnonymizationMethods.TryGetValue(value.GetString()!, out var method))
                {
                    throw refuse(field, $"unknown method {Describe(value)} (expected one of: {string.Join(", ", AnonymizationMethods.Keys)})");
                }

                if (id.IsWithinOrEqual(path))
                {
                    throw refuse(field, $"would anonymize the record id '{id}'; the id must stay stable for the upsert, so choose an id that is not personal data");
                }

                foreach (var other in anonymize)
                {
                    if (path.IsWithinOrEqual(other.Path) || other.Path.IsWithinOrEqual(path))
                    {
                        throw refuse(field, $"overlaps anonymize.{other.Path}; each value must have exactly one method");
                    }
                }

                anonymize.Add(new AnonymizationRule(path, method));
            }
        }

        return anonymize;
    }

    private static List<EnrichmentRule> ReadEnrich(Dictionary<string, JsonElement> fields, FieldPath id, List<FieldPath> require, List<AnonymizationRule> anonymize, Func<string, string, ProfileException> refuse)
    {
        var enrich = new List<EnrichmentRule>();
        if (fields.TryGetValue("enrich", out var enrichElement))
        {
            if (enrichElement.ValueKind != JsonValueKind.Object)
            {
                throw refuse("enrich", "must be an object of \"name\": { \"fn\": ..., \"from\": ... }");
            }

            foreach (var (key, value) in Properties(enrichElement, "enrich", refuse))
            {
                var field = $"enrich.{key}";
                if (!Profile.EnrichmentName().IsMatch(key))
                {
                    throw refuse(field, "the name must be 1-63 characters of letters, digits and '_', not starting with a digit");
                }

                if (value.ValueKind != JsonValueKind.Object)
                {
                    throw refuse(field, "must be an object { \"fn\": ..., \"from\": ... }");
                }

                var spec = Properties(value, field, refuse);
                foreach (var specKey in spec.Keys)
                {
                    if (specKey is not ("fn" or "from"))
                    {
                        throw refuse($"{field}.{specKey}", "unknown field (expected fn and from)");
                    }
                }

                if (!spec.TryGetValue("fn", out var fnElement))
                {
                    throw refuse($"{field}.fn", "is required");
                }

                if (fnElement.ValueKind != JsonValueKind.String || !EnrichmentMethods.TryGetValue(fnElement.GetString()!, out var method))
                {
                    throw refuse($"{field}.fn", $"unknown function {Describe(fnElement)} (expected one of: {string.Join(", ", EnrichmentMethods.Keys)})");
                }

                if (!spec.TryGetValue("from", out var fromElement))
                {
                    throw refuse($"{field}.from", "is required");
                }

                var from = ReadPath(fromElement, $"{field}.from", refuse);
                if (from.HasWildcard)
                {
                    throw refuse($"{field}.from", $"'{from}' has [*]; an enrichment reads one value");
                }

                if (key == id.Head)
                {
                    throw refuse(field, $"collides with the id field '{id.Head}'");
                }

                foreach (var rule in anonymize)
                {
                    if (key == rule.Path.Head)
                    {
                        throw refuse(field, $"collides with the anonymized field '{rule.Path.Head}'; it would overwrite the anonymized value");
                    }

                    if (method is EnrichmentMethod.Lowercase or EnrichmentMethod.Utc && from.IsWithinOrEqual(rule.Path))
                    {
                        throw refuse(field, $"{fnElement.GetString()} would copy '{from}' unanonymized, but it is personal data (anonymize.{rule.Path})");
                    }
                }

                foreach (var required in require)
                {
                    if (key == required.Head)
                    {
                        throw refuse(field, $"collides with the required field '{required.Head}'");
                    }
                }

                enrich.Add(new EnrichmentRule(key, method, from));
            }
        }

        return enrich;
    }

    private static double? ReadMaxRejectRatio(Dictionary<string, JsonElement> fields, Func<string, string, ProfileException> refuse)
    {
        double? maxRejectRatio = null;
        if (fields.TryGetValue("maxRejectRatio", out var ratioElement) && ratioElement.ValueKind != JsonValueKind.Null)
        {
            if (ratioElement.ValueKind != JsonValueKind.Number || !ratioElement.TryGetDouble(out var ratio) || !(ratio >= 0 && ratio <= 1))
            {
                throw refuse("maxRejectRatio", $"must be a number from 0 to 1 (the largest share of a file's records that may be rejected, such as 0.05), not {Describe(ratioElement, raw: true)}");
            }

            maxRejectRatio = ratio;
        }

        return maxRejectRatio;
    }

    private static RecordsLocation? ParseRecords(string text)
    {
        if (text == "$")
        {
            return RecordsLocation.TopLevelArray;
        }

        if (!text.StartsWith("$.", StringComparison.Ordinal))
        {
            return null;
        }

        var segments = text[2..].Split('.');
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment.AsSpan().IndexOfAny("[]*$ ") >= 0)
            {
                return null;
            }
        }

        return RecordsLocation.AtPath(segments, text);
    }

    private static FieldPath ReadPath(JsonElement element, string field, Func<string, string, ProfileException> refuse)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw refuse(field, "must be a string field path such as \"email\" or \"address.city\"");
        }

        return FieldPath.TryParse(element.GetString(), out var path, out var error) ? path : throw refuse(field, $"bad path: {error}");
    }

    /// <summary>The properties of an object, refusing duplicate keys (which JSON parsers resolve differently).</summary>
    private static Dictionary<string, JsonElement> Properties(JsonElement element, string field, Func<string, string, ProfileException> refuse)
    {
        var properties = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!properties.TryAdd(property.Name, property.Value))
            {
                throw refuse(field, $"'{property.Name}' is given twice");
            }
        }

        return properties;
    }

    private static string Describe(JsonElement value, bool raw = false) =>
        value.ValueKind == JsonValueKind.String ? $"'{value.GetString()}'"
        : raw && value.ValueKind == JsonValueKind.Number ? value.GetRawText()
        : $"({value.ValueKind.ToString().ToLowerInvariant()})";
}
