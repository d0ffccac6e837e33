using System.Text.Json;
using System.Text.Json.Nodes;

namespace DataProcess.Differential.Tests.Reference;

/// <summary>Where the records of an input are: what the profile's <c>records</c> says and how the file is shaped.</summary>
public enum Shape
{
    /// <summary>The document is an array of records; the profile says <c>"$"</c>.</summary>
    TopLevelArray,

    /// <summary>The same, with <c>records</c> absent: the shape is detected from the first byte.</summary>
    DetectedArray,

    /// <summary>The records are the array at <c>$.data.items</c> of a top-level object with siblings around it.</summary>
    ArrayAtPath,

    /// <summary>One record per line; <c>records</c> absent.</summary>
    Ndjson,
}

public sealed record AnonymizeRule(string Path, string Method);

public sealed record EnrichRule(string Name, string Function, string From);

/// <summary>
/// A generated profile, as the reference reads it. The pipeline gets it as a profile file (<see cref="ToJson"/>),
/// loaded by the production ProfileLoader; the reference never uses the pipeline's profile model.
/// </summary>
public sealed record CaseProfile(string Id, IReadOnlyList<string> Require, IReadOnlyList<AnonymizeRule> Anonymize, IReadOnlyList<EnrichRule> Enrich)
{
    /// <summary>The path of the records array in the <see cref="Shape.ArrayAtPath"/> shape.</summary>
    public static readonly string[] RecordsPath = ["data", "items"];

    public static string? RecordsText(Shape shape) => shape switch
    {
        Shape.TopLevelArray => "$",
        Shape.ArrayAtPath => "$." + string.Join('.', RecordsPath),
        _ => null,
    };

    public string ToJson(string dataset, Shape shape)
    {
        var profile = new JsonObject { ["dataset"] = dataset };
        if (RecordsText(shape) is { } records)
        {
            profile["records"] = records;
        }

        profile["id"] = Id;
        profile["require"] = new JsonArray([.. Require.Select(r => (JsonNode)r)]);
        var anonymize = new JsonObject();
        foreach (var rule in Anonymize)
        {
            anonymize[rule.Path] = rule.Method;
        }

        profile["anonymize"] = anonymize;
        var enrich = new JsonObject();
        foreach (var rule in Enrich)
        {
            enrich[rule.Name] = new JsonObject { ["fn"] = rule.Function, ["from"] = rule.From };
        }

        profile["enrich"] = enrich;
        return profile.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public override string ToString() => ToJson("case", Shape.TopLevelArray);
}
