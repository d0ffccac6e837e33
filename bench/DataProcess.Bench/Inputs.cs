using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

/// <summary>The bench's input files, generated once per size and seed and cached under .local/bench/.</summary>
internal static class Input
{
    public static Task<string> EnsureAsync(string cli, string directory, int sizeMb, int seed) =>
        GenerateAsync(cli, Path.Combine(directory, $"customers-{sizeMb}mb-seed{seed}.json"), ["--size-mb", Text(sizeMb)], seed);

    /// <summary>A file of a few records: a run of it costs what every run costs whatever its size.</summary>
    public static Task<string> EnsureRecordsAsync(string cli, string directory, int records, int seed) =>
        GenerateAsync(cli, Path.Combine(directory, $"customers-{records}rec-seed{seed}.json"), ["--records", Text(records)], seed);

    private static async Task<string> GenerateAsync(string cli, string path, string[] amount, int seed)
    {
        if (!File.Exists(path))
        {
            var partial = path + ".partial";
            await Cli.RunAsync(cli, ["generate", .. amount, "--seed", Text(seed), "--out", partial], null);
            File.Move(partial, path, overwrite: true);
        }

        return path;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The pretty-printed copy of <paramref name="compact"/> (indent 2, CRLF), cached beside it.</summary>
    public static string EnsurePretty(string compact)
    {
        var path = Path.ChangeExtension(compact, ".pretty-crlf.json");
        if (!File.Exists(path))
        {
            PrettyInput.Write(compact, path + ".partial");
            File.Move(path + ".partial", path, overwrite: true);
        }

        return path;
    }
}

internal static class PrettyInput
{
    /// <summary>
    /// Re-writes a JSON file token by token, indented by two spaces with CRLF line ends, streaming (1 MiB buffers),
    /// so a 1 GB input never sits in memory. Strings keep their characters; numbers keep their spelling.
    /// </summary>
    public static void Write(string source, string destination)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, NewLine = "\r\n", SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        JsonTokens.Read(input, (ref Utf8JsonReader reader) =>
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject: writer.WriteStartObject(); break;
                case JsonTokenType.EndObject: writer.WriteEndObject(); break;
                case JsonTokenType.StartArray: writer.WriteStartArray(); break;
                case JsonTokenType.EndArray: writer.WriteEndArray(); break;
                case JsonTokenType.PropertyName: writer.WritePropertyName(reader.GetString()!); break;
                case JsonTokenType.String: writer.WriteStringValue(reader.GetString()); break;
                case JsonTokenType.Number: writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                case JsonTokenType.True: writer.WriteBooleanValue(true); break;
                case JsonTokenType.False: writer.WriteBooleanValue(false); break;
                default: writer.WriteNullValue(); break;
            }

            if (writer.BytesPending > 1 << 20)
            {
                writer.Flush();
            }
        });

        writer.Flush();
        output.Write("\r\n"u8);
    }
}

/// <summary>One pass of Utf8JsonReader over a stream in 1 MiB buffers, handing each token to <paramref name="token"/>.</summary>
internal static class JsonTokens
{
    public delegate void Handler(ref Utf8JsonReader reader);

    public static void Read(Stream stream, Handler token)
    {
        var buffer = new byte[1 << 20];
        var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = 256 });
        var filled = 0;
        while (true)
        {
            var read = stream.Read(buffer, filled, buffer.Length - filled);
            filled += read;
            var final = read == 0;
            var reader = new Utf8JsonReader(buffer.AsSpan(0, filled), final, state);
            while (reader.Read())
            {
                token(ref reader);
            }

            state = reader.CurrentState;
            var consumed = (int)reader.BytesConsumed;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
            filled -= consumed;
            if (final)
            {
                break;
            }
        }
    }
}

/// <summary>The parse limit: one pass of Utf8JsonReader over the file (1 MiB buffer), nothing else.</summary>
internal static class ParseLimit
{
    public static double MeasureMBps(string path)
    {
        var stopwatch = Stopwatch.StartNew();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long tokens = 0;
        JsonTokens.Read(stream, (ref Utf8JsonReader _) => tokens++);

        GC.KeepAlive(tokens);
        return stream.Length / 1e6 / stopwatch.Elapsed.TotalSeconds;
    }
}

