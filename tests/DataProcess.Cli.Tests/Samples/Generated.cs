using System.Text.Json;
using DataProcess.Cli.Samples;

namespace DataProcess.Cli.Tests.Samples;

/// <summary>Runs the generator into memory and reads its output back.</summary>
internal static class Generated
{
    public static async Task<(byte[] Bytes, GeneratedFile Result)> WriteAsync(GeneratorOptions options)
    {
        using var stream = new MemoryStream();
        var result = await CustomerGenerator.WriteAsync(stream, options, CancellationToken.None);
        return (stream.ToArray(), result);
    }

    /// <summary>The records of a file of any shape, in file order.</summary>
    public static List<JsonElement> Records(byte[] bytes, OutputShape shape)
    {
        if (shape == OutputShape.Ndjson)
        {
            var lines = Lines(bytes);
            lines[^1].Should().BeEmpty("NDJSON ends with a newline");
            return lines.SkipLast(1).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
        }

        using var document = JsonDocument.Parse(bytes);
        var array = shape == OutputShape.WrappedArray ? document.RootElement.GetProperty("result") : document.RootElement;
        return array.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>The file split at '\n' (the last element is what follows the last newline).</summary>
    public static List<byte[]> Lines(byte[] bytes)
    {
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 1;
            }
        }

        lines.Add(bytes[start..]);
        return lines;
    }

    public static bool IsValid(JsonElement record) =>
        record.ValueKind == JsonValueKind.Object
        && record.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
        && record.TryGetProperty("email", out var email) && email.ValueKind == JsonValueKind.String;
}
