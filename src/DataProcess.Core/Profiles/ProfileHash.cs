using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace DataProcess.Core.Profiles;

/// <summary>
/// The canonical hash of a parsed profile: SHA-256 (64 lowercase hex characters) of its canonical form, a compact
/// JSON document built from the validated rules, never from the file's bytes:
/// <code>
/// {"v":1,"dataset":"customers","records":["result"],"id":["id"],"require":[["email"]],
///  "anonymize":[[["email"],"hash"],[["friends",null,"phone"],"redact"]],
///  "enrich":[["age","age",["birthDate"]]],"maxRejectRatio":null}
/// </code>
/// A path is the array of its segments (<c>null</c> for <c>[*]</c>); <c>records</c> is <c>null</c> when detected,
/// <c>[]</c> for <c>$</c>. <c>require</c> and <c>anonymize</c> are sorted by path and <c>enrich</c> by name, because
/// their order changes no output (paths may not overlap, and jsonb keeps no key order). So reordering keys or rules,
/// whitespace, and the spelling of a number (<c>0.5</c>, <c>5e-1</c>) keep the hash; any change to a rule changes it.
/// </summary>
internal static class ProfileHash
{
    private const int Version = 1;

    public static string Compute(Profile profile) => Convert.ToHexStringLower(SHA256.HashData(CanonicalForm(profile)));

    public static byte[] CanonicalForm(Profile profile)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("dataset", profile.Dataset);
            writer.WritePropertyName("records");
            if (profile.Records.Segments is { } segments)
            {
                writer.WriteStartArray();
                foreach (var segment in segments)
                {
                    writer.WriteStringValue(segment);
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WritePropertyName("id");
            WritePath(writer, profile.Id);

            writer.WriteStartArray("require");
            foreach (var path in profile.Require.OrderBy(Key, StringComparer.Ordinal))
            {
                WritePath(writer, path);
            }

            writer.WriteEndArray();

            writer.WriteStartArray("anonymize");
            foreach (var rule in profile.Anonymize.OrderBy(r => Key(r.Path), StringComparer.Ordinal))
            {
                writer.WriteStartArray();
                WritePath(writer, rule.Path);
                writer.WriteStringValue(ProfileLoader.Name(rule.Method));
                writer.WriteEndArray();
            }

            writer.WriteEndArray();

            writer.WriteStartArray("enrich");
            foreach (var rule in profile.Enrich.OrderBy(r => r.Name, StringComparer.Ordinal))
            {
                writer.WriteStartArray();
                writer.WriteStringValue(rule.Name);
                writer.WriteStringValue(ProfileLoader.Name(rule.Method));
                WritePath(writer, rule.From);
                writer.WriteEndArray();
            }

            writer.WriteEndArray();

            writer.WritePropertyName("maxRejectRatio");
            if (profile.MaxRejectRatio is { } ratio)
            {
                // The shortest text that round-trips: the same number however the file spelled it.
                writer.WriteRawValue(ratio.ToString("R", CultureInfo.InvariantCulture));
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WritePath(Utf8JsonWriter writer, FieldPath path)
    {
        writer.WriteStartArray();
        foreach (var segment in path.Segments)
        {
            if (segment.IsWildcard)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(segment.Name);
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>A sort key of a path that no two different paths share (names cannot hold '.', '[' or ']').</summary>
    private static string Key(FieldPath path) => string.Join('.', path.Segments.Select(s => s.Name ?? "[*]"));
}
