// `make bench`: the end-to-end benchmark. Generates (and caches) the deterministic input, runs
// `dataprocess run` under /usr/bin/time -v against a fresh database, measures the sink limit (binary COPY of
// the very rows the run loaded into an empty table of the same shape) and the parse limit (Utf8JsonReader
// alone), and rewrites the generated section of BENCHMARKS.md.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

var options = BenchOptions.Parse(args);
var inv = CultureInfo.InvariantCulture;
var root = Directory.GetCurrentDirectory();
var cli = Path.Combine(root, "src/DataProcess.Cli/bin/Release/net10.0/dataprocess.dll");
if (!File.Exists(cli))
{
    Console.Error.WriteLine($"error: {cli} is missing; run `make build` first");
    return 1;
}

var benchDir = Path.Combine(root, ".local/bench");
Directory.CreateDirectory(benchDir);
var keyFile = Path.Combine(benchDir, "hmac.key");
if (!File.Exists(keyFile))
{
    await Cli.RunAsync(cli, ["keygen", "--out", keyFile], null);
}

var baseConnection = Environment.GetEnvironmentVariable("DATAPROCESS_DATABASE") is { Length: > 0 } configured
    ? configured
    : (await Cli.RunAsync(cli, ["db", "start", "--local-dir", Path.Combine(root, ".local")], null)).Stdout.Trim().Split('\n')[^1];

var postgresVersion = await Database.ScalarAsync(baseConnection, "SHOW server_version");
var rows = new List<Row>();
var layouts = new List<LayoutRow>();
foreach (var size in options.Sizes)
{
    var input = await Input.EnsureAsync(cli, benchDir, size, options.Seed);
    var pretty = Input.EnsurePretty(input);
    Console.WriteLine($"== {size} MB: {input}");
    var parse = Math.Max(ParseLimit.MeasureMBps(input), ParseLimit.MeasureMBps(input));
    Console.WriteLine($"   parse limit {parse:0} MB/s");
    var load = Machine.LoadAverage();
    var database = $"dataprocess_bench_{size}_{DateTime.UtcNow:yyyyMMddHHmmss}";
    var connection = await Database.CreateAsync(baseConnection, database);
    try
    {
        var work = Path.Combine(benchDir, "work");
        var run = await Cli.RunAsync(
            "/usr/bin/time",
            ["-v", "dotnet", cli, "run", input, "--profile", Path.Combine(root, "samples/customers.profile.json"), "--key-file", keyFile, "--local-dir", work, "--json"],
            connection);
        var summary = JsonDocument.Parse(run.Stdout.Trim().Split('\n')[^1]).RootElement;
        var timings = summary.GetProperty("timings");
        var wall = TimeOutput.WallSeconds(run.Stderr);
        var rssKiB = TimeOutput.Field(run.Stderr, "Maximum resident set size (kbytes)");
        var cpu = TimeOutput.Field(run.Stderr, "Percent of CPU this job got").TrimEnd('%');
        var records = summary.GetProperty("records").GetInt64();
        var sourceRecords = records + summary.GetProperty("rejected").GetInt64() + summary.GetProperty("duplicates").GetInt64();
        Console.WriteLine($"   run {wall:0.0} s, {records} rows, peak RSS {long.Parse(rssKiB, inv) / 1024} MiB, CPU {cpu}%");
        var sink = await Database.SinkLimitAsync(connection, Path.Combine(benchDir, "records.bin"));
        Console.WriteLine($"   sink limit {sink:0.0} s");
        rows.Add(new Row(
            size, new FileInfo(input).Length, sourceRecords, records, wall, parse, sink, long.Parse(rssKiB, inv) / 1024.0, cpu, load,
            timings.GetProperty("enrichment").GetDouble(), timings.GetProperty("anonymization").GetDouble(),
            timings.TryGetProperty("keys", out var keys) ? keys.GetDouble() : 0,
            timings.GetProperty("readMerge").GetDouble(), timings.GetProperty("copy").GetDouble(),
            timings.GetProperty("upsert").GetDouble(), timings.GetProperty("commit").GetDouble()));
    }
    finally
    {
        await Database.DropAsync(baseConnection, database);
    }

    // The same records pretty-printed (indent 2, CRLF), as most exporters write them, against a fresh database too.
    var compactRow = rows[^1];
    var prettyDatabase = $"dataprocess_bench_{size}_pretty_{DateTime.UtcNow:yyyyMMddHHmmss}";
    var prettyConnection = await Database.CreateAsync(baseConnection, prettyDatabase);
    try
    {
        var prettyRun = await Cli.RunAsync(
            "/usr/bin/time",
            ["-v", "dotnet", cli, "run", pretty, "--profile", Path.Combine(root, "samples/customers.profile.json"), "--key-file", keyFile, "--local-dir", Path.Combine(benchDir, "work"), "--json"],
            prettyConnection);
        var prettySummary = JsonDocument.Parse(prettyRun.Stdout.Trim().Split('\n')[^1]).RootElement;
        var prettyWall = TimeOutput.WallSeconds(prettyRun.Stderr);
        var prettyRecords = prettySummary.GetProperty("records").GetInt64() + prettySummary.GetProperty("rejected").GetInt64() + prettySummary.GetProperty("duplicates").GetInt64();
        Console.WriteLine($"   pretty (indent 2, CRLF): {prettyWall:0.0} s, {prettyRecords} records");
        layouts.Add(new LayoutRow(size, compactRow.Bytes, compactRow.SourceRecords, compactRow.Wall, new FileInfo(pretty).Length, prettyRecords, prettyWall));
    }
    finally
    {
        await Database.DropAsync(baseConnection, prettyDatabase);
    }
}

var table = Report.Render(rows, postgresVersion, options) + Report.RenderLayouts(layouts);
Console.WriteLine(table);
Report.Write(Path.Combine(root, options.Out), table);
return 0;

internal sealed record Row(
    int SizeMb, long Bytes, long SourceRecords, long Loaded, double Wall, double ParseMBps, double SinkSeconds, double RssMiB, string Cpu, string Load,
    double Enrichment, double Anonymization, double Keys, double ReadMerge, double Copy, double Upsert, double Commit);

internal sealed record LayoutRow(int SizeMb, long CompactBytes, long CompactRecords, double CompactWall, long PrettyBytes, long PrettyRecords, double PrettyWall);

internal sealed record BenchOptions(int[] Sizes, int Seed, string Out)
{
    public static BenchOptions Parse(string[] args)
    {
        int size = 1000, small = 250, seed = 20261127;
        var output = "BENCHMARKS.md";
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--size-mb": size = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--small-mb": small = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": output = args[++i]; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        int[] sizes = small > 0 && small != size ? [small, size] : [size];
        return new BenchOptions(sizes, seed, output);
    }
}

internal static class Input
{
    public static async Task<string> EnsureAsync(string cli, string directory, int sizeMb, int seed)
    {
        var path = Path.Combine(directory, $"customers-{sizeMb}mb-seed{seed}.json");
        if (!File.Exists(path))
        {
            var partial = path + ".partial";
            await Cli.RunAsync(cli, ["generate", "--size-mb", sizeMb.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture), "--out", partial], null);
            File.Move(partial, path, overwrite: true);
        }

        return path;
    }

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

internal static class Database
{
    public static async Task<string> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture)!;
    }

    public static async Task<string> CreateAsync(string baseConnection, string name)
    {
        await ScalarAsync(baseConnection, $"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(baseConnection) { Database = name, Pooling = false }.ConnectionString;
    }

    public static async Task DropAsync(string baseConnection, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await ScalarAsync(baseConnection, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary>
    /// Exports the rows the run loaded (binary COPY TO), then times a binary COPY of them into an empty table of
    /// the same shape and indexes, committed: the fastest PostgreSQL takes these rows from a client.
    /// </summary>
    public static async Task<double> SinkLimitAsync(string connectionString, string exportFile)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var export = await connection.BeginRawBinaryCopyAsync("COPY dataprocess.records TO STDOUT (FORMAT binary)"))
        await using (var file = new FileStream(exportFile, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            await export.CopyToAsync(file, 1 << 20);
        }

        await using (var command = new NpgsqlCommand("CREATE TABLE dataprocess.sink_limit (LIKE dataprocess.records INCLUDING ALL); CHECKPOINT", connection))
        {
            command.CommandTimeout = 0;
            await command.ExecuteNonQueryAsync();
        }

        var stopwatch = Stopwatch.StartNew();
        await using (var import = await connection.BeginRawBinaryCopyAsync("COPY dataprocess.sink_limit FROM STDIN (FORMAT binary)"))
        await using (var file = new FileStream(exportFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            await file.CopyToAsync(import, 1 << 20);
        }

        var seconds = stopwatch.Elapsed.TotalSeconds;
        File.Delete(exportFile);
        return seconds;
    }
}

internal sealed record CliResult(string Stdout, string Stderr);

internal static class Cli
{
    public static async Task<CliResult> RunAsync(string program, string[] arguments, string? database)
    {
        var start = new ProcessStartInfo(program.EndsWith(".dll", StringComparison.Ordinal) ? "dotnet" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (program.EndsWith(".dll", StringComparison.Ordinal))
        {
            start.ArgumentList.Add(program);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (database is not null)
        {
            start.Environment["DATAPROCESS_DATABASE"] = database;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var result = new CliResult(await stdout, await stderr);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{result.Stdout}\n{result.Stderr}");
        }

        return result;
    }
}

internal static partial class TimeOutput
{
    public static string Field(string output, string name) =>
        output.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

    public static double WallSeconds(string output)
    {
        var text = Field(output, "Elapsed (wall clock) time (h:mm:ss or m:ss)");
        var seconds = 0.0;
        foreach (var part in text.Split(':'))
        {
            seconds = (seconds * 60) + double.Parse(part, CultureInfo.InvariantCulture);
        }

        return seconds;
    }
}

internal static class Machine
{
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public static string Memory()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture);
        return $"{kib / 1024.0 / 1024.0:0.0} GiB";
    }

    public static string Cpu()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        return $"{Environment.ProcessorCount} cores ({model})";
    }
}

internal static class Report
{
    public const string Begin = "<!-- make bench: generated, begin -->";
    public const string End = "<!-- make bench: generated, end -->";

    public static string Render(List<Row> rows, string postgresVersion, BenchOptions options)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `make bench` (seed {options.Seed}) on {Machine.Cpu()}, {Machine.Memory()}, "
            + $"{RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, PostgreSQL {postgresVersion} (embedded cluster, durable settings, same machine).");
        text.AppendLine();
        text.AppendLine("| input | records | end-to-end s | MB/s | records/s | enrichment s | anonymization s | keys s | read+merge s | COPY s | upsert s | commit s | sink limit s | sink limit / end-to-end | parse limit MB/s | peak RSS | CPU of `dataprocess` | load avg at start |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            text.AppendLine(inv,
                $"| {r.SizeMb} MB | {r.SourceRecords:N0} | {r.Wall:0.0} | {r.Bytes / 1e6 / r.Wall:0.0} | {r.SourceRecords / r.Wall:N0} | {r.Enrichment:0.0} | {r.Anonymization:0.0} | {r.Keys:0.0} | {r.ReadMerge:0.0} | {r.Copy:0.0} | {r.Upsert:0.0} | {r.Commit:0.0} | {r.SinkSeconds:0.0} | {r.SinkSeconds / r.Wall:0.00} | {r.ParseMBps:0} | {r.RssMiB:0} MiB | {r.Cpu}% | {r.Load} |");
        }

        if (rows.Count == 2)
        {
            text.AppendLine();
            text.AppendLine(inv, $"Peak RSS at {rows[1].SizeMb} MB / at {rows[0].SizeMb} MB: {rows[1].RssMiB / rows[0].RssMiB:0.00}×.");
        }

        return text.ToString();
    }

    /// <summary>records/s of the same records compact and pretty-printed (indent 2, CRLF), side by side.</summary>
    public static string RenderLayouts(List<LayoutRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine("Pretty-printed vs compact: the same records, indented by two spaces with CRLF line ends (goal: pretty ≥ 0.8× the compact records/s).");
        text.AppendLine();
        text.AppendLine("| input | compact MB | compact s | compact records/s | pretty MB | pretty s | pretty records/s | pretty / compact records/s |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var compact = r.CompactRecords / r.CompactWall;
            var pretty = r.PrettyRecords / r.PrettyWall;
            text.AppendLine(inv, $"| {r.SizeMb} MB | {r.CompactBytes / 1e6:0} | {r.CompactWall:0.0} | {compact:N0} | {r.PrettyBytes / 1e6:0} | {r.PrettyWall:0.0} | {pretty:N0} | {pretty / compact:0.00} |");
        }

        return text.ToString();
    }

    public static void Write(string path, string table)
    {
        var section = $"{Begin}\n{table}{End}";
        var existing = File.Exists(path) ? File.ReadAllText(path) : $"# Benchmarks\n\n## Latest `make bench`\n\n{Begin}\n{End}\n";
        var begin = existing.IndexOf(Begin, StringComparison.Ordinal);
        var end = existing.IndexOf(End, StringComparison.Ordinal);
        var updated = begin >= 0 && end > begin
            ? string.Concat(existing.AsSpan(0, begin), section, existing.AsSpan(end + End.Length))
            : existing.TrimEnd() + "\n\n## Latest `make bench`\n\n" + section + "\n";
        File.WriteAllText(path, updated);
    }
}
