using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using DataProcess.Cli.Samples;
using DataProcess.Local;
using DataProcess.Core.Payloads;
using DataProcess.Postgres;
using Spectre.Console;

namespace DataProcess.Cli;

/// <summary>
/// What the CLI talks to: stdout for results, stderr for errors, whether a person is watching, and
/// the environment (injected so tests can run commands side by side).
/// </summary>
internal sealed record CliConsole(IAnsiConsole Ansi, TextWriter Out, TextWriter Error, bool Interactive, Func<string, string?> Environment);

/// <summary>
/// The <c>dataprocess</c> command line. Exit codes: 0 success (a skipped replay too), 1 the input,
/// profile or key was refused or the run failed (one <c>error:</c> line on stderr), 2 usage, 130 / 143
/// stopped by SIGINT / SIGTERM (128 + the signal's number, as a shell reports a killed process).
/// </summary>
internal static class DataProcessCli
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;
    public const int Terminated = 143;

    public const string DebugVariable = "DATAPROCESS_DEBUG";
    public const string LocalDirectoryVariable = "DATAPROCESS_LOCAL_DIR";

    /// <param name="stopSignal">Which signal cancelled <paramref name="cancellationToken"/> (SIGINT when not known).</param>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken, Func<PosixSignal?>? stopSignal = null)
    {
        var root = new RootCommand("DataProcess: stream JSON files through enrichment and anonymization into PostgreSQL.");
        root.Subcommands.Add(RunCommand(console));
        root.Subcommands.Add(GenerateCommand(console));
        root.Subcommands.Add(KeygenCommand(console));
        root.Subcommands.Add(DatabaseCommand(console));
        root.Subcommands.Add(LambdaServeCommand.Create(console));
        root.Subcommands.Add(UploadCommand.Create(console));
        root.Subcommands.Add(StackCommand.Create(console));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await console.Error.WriteLineAsync($"error: {error.Message}");
            }

            await console.Error.WriteLineAsync("usage: dataprocess --help");
            return Usage;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            var signal = stopSignal?.Invoke() ?? PosixSignal.SIGINT;
            await console.Error.WriteLineAsync(e is RunCancelledException cancelled
                ? $"error: stopped by {signal}: run {cancelled.RunId:D} is recorded as failed ({RunCancelledException.Reason}) and loaded nothing"
                : $"error: stopped by {signal}: nothing was loaded");
            return signal == PosixSignal.SIGTERM ? Terminated : Interrupted;
        }
        catch (Exception e)
        {
            // One line, no stack trace: every message of ours names the file, record or field.
            await console.Error.WriteLineAsync($"error: {Describe(e)}");
            if (console.Environment(DebugVariable) == "1")
            {
                await console.Error.WriteLineAsync(e.ToString());
            }

            return Failed;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),

        // The handler's name for "retry me" in the state machine; on a workstation the cause says more.
        DatabaseFunctions.DatabaseUnavailableException { InnerException: { } inner } => Describe(inner),
        Npgsql.PostgresException pg => $"PostgreSQL: {pg.MessageText} ({pg.SqlState})",
        Npgsql.NpgsqlException npgsql => $"PostgreSQL: {npgsql.Message}",
        _ => e.Message.ReplaceLineEndings(" "),
    };

    private static Command RunCommand(CliConsole console)
    {
        var input = new Argument<FileInfo>("INPUT") { Description = "The JSON or NDJSON file to load." };
        var profile = new Option<FileInfo>("--profile", "-p") { Description = "The profile: what to read, what is personal, what to add.", Required = true };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "The HMAC key (base64, at least 32 bytes). Default: $DATAPROCESS_HMAC_KEY." };
        var localDir = LocalDirectoryOption(console);
        var json = new Option<bool>("--json") { Description = "Print the run summary as JSON." };
        var reprocess = new Option<bool>("--reprocess") { Description = "Load the file again even when the same content already loaded with the same profile and key." };
        var command = new Command("run", "Run the whole pipeline locally: the same handlers, in the state machine's order.")
        {
            input, profile, keyFile, localDir, json, reprocess,
        };

        command.SetAction(async (parse, ct) =>
        {
            var inputFile = parse.GetValue(input)!;
            var profileFile = parse.GetValue(profile)!;
            if (!inputFile.Exists)
            {
                throw new FileNotFoundException($"{inputFile.FullName}: no such file");
            }

            // Refuse a bad profile or key before anything is read or recorded.
            Core.Profiles.ProfileLoader.LoadFile(profileFile.FullName);
            var keys = new LocalHmacKeySource(parse.GetValue(keyFile)?.FullName, console.Environment);
            await keys.GetKeyAsync(ct);

            var directory = parse.GetValue(localDir)!;
            var connectionString = await DatabaseAsync(console, directory, ct);
            await SchemaMigrator.MigrateAsync(connectionString, ct);
            await using var sink = PostgresRecordSink.Create(connectionString);

            var pipeline = new LocalPipeline(sink, keys, directory);
            var progress = new RunProgress();
            var result = await ProgressDisplay.RunAsync(console, progress, () => pipeline.RunAsync(inputFile.FullName, profileFile.FullName, progress, ct, parse.GetValue(reprocess)));
            await WriteSummaryAsync(console, result, parse.GetValue(json));
            return Success;
        });
        return command;
    }

    private static async Task WriteSummaryAsync(CliConsole console, LocalRunResult result, bool json)
    {
        var summary = result.Summary;
        if (json)
        {
            await console.Out.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(summary, PayloadJsonContext.Default.RunSummary));
            return;
        }

        var megabytes = result.SourceBytes / 1_000_000.0;
        var rate = result.Seconds > 0 ? megabytes / result.Seconds : 0;
        var lines = new List<(string, string)>
        {
            ("run", summary.RunId.ToString("D")),
            ("status", summary.Status),
        };
        if (summary.MatchedRunId is { } matched)
        {
            lines.Add(("same as", $"{matched:D} (same content, profile and key)"));
        }

        lines.AddRange(
        [
            ("dataset", summary.Dataset),
            ("records", summary.Records.ToString(CultureInfo.InvariantCulture)),
            ("rejected", summary.Rejected.ToString(CultureInfo.InvariantCulture)),
            ("duplicates", summary.Duplicates.ToString(CultureInfo.InvariantCulture)),
        ]);
        if (summary.Superseded > 0)
        {
            lines.Add(("superseded", $"{summary.Superseded.ToString(CultureInfo.InvariantCulture)} (ids a newer file holds; its rows stay)"));
        }

        lines.AddRange(
        [
            ("seconds", result.Seconds.ToString("0.00", CultureInfo.InvariantCulture)),
            ("MB/s", summary.Status == "skipped"
                ? $"- (already loaded; {megabytes.ToString("0.0", CultureInfo.InvariantCulture)} MB not read again)"
                : rate.ToString("0.0", CultureInfo.InvariantCulture) + $" ({megabytes.ToString("0.0", CultureInfo.InvariantCulture)} MB)"),
        ]);
        foreach (var (name, value) in lines)
        {
            await console.Out.WriteLineAsync($"{name + ":",-12}{value}");
        }
    }

    private static Command GenerateCommand(CliConsole console)
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = "Where to write the file.", Required = true };
        var records = new Option<long?>("--records") { Description = "How many records." };
        var sizeMb = new Option<long?>("--size-mb") { Description = "Stop after this many megabytes (10^6 bytes)." };
        var seed = new Option<int>("--seed") { Description = "The random seed: the same seed gives the same bytes.", DefaultValueFactory = _ => 20261127 };
        var shape = new Option<OutputShape>("--shape") { Description = "WrappedArray ({\"result\":[...]}), TopLevelArray or Ndjson.", DefaultValueFactory = _ => OutputShape.WrappedArray };
        var command = new Command("generate", "Write a deterministic file of generated customers (samples, benchmarks).")
        {
            output, records, sizeMb, seed, shape,
        };

        command.SetAction(async (parse, ct) =>
        {
            var count = parse.GetValue(records);
            var size = parse.GetValue(sizeMb);
            if (count is null == size is null)
            {
                throw new ArgumentException("give exactly one of --records and --size-mb");
            }

            var file = parse.GetValue(output)!;
            file.Directory?.Create();
            var options = new GeneratorOptions { Seed = parse.GetValue(seed), Records = count, TargetBytes = size * 1_000_000, Shape = parse.GetValue(shape) };
            GeneratedFile generated;
            await using (var stream = new FileStream(file.FullName, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                generated = await CustomerGenerator.WriteAsync(stream, options, ct);
            }

            await console.Out.WriteLineAsync($"wrote {generated.Records} records, {generated.Bytes} bytes to {file.FullName}");
            return Success;
        });
        return command;
    }

    private static Command KeygenCommand(CliConsole console)
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = "Where to write the key.", Required = true };
        var command = new Command("keygen", "Create a random 32-byte HMAC key file (base64, mode 600); an existing file is kept.") { output };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(output)!;
            if (file.Exists)
            {
                await console.Out.WriteLineAsync($"{file.FullName} exists; kept");
                return Success;
            }

            file.Directory?.Create();
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                // Readable by its owner only, like an SSH key.
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            await using (var writer = new StreamWriter(file.FullName, options))
            {
                await writer.WriteLineAsync(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).AsMemory(), ct);
            }

            await console.Out.WriteLineAsync($"wrote a new key to {file.FullName}");
            return Success;
        });
        return command;
    }

    private static Command DatabaseCommand(CliConsole console)
    {
        var localDir = LocalDirectoryOption(console);
        var start = new Command("start", "Start the embedded PostgreSQL cluster (created on first use) and print its connection string.") { localDir };
        start.SetAction(async (parse, ct) =>
        {
            var cluster = await LocalPostgresCluster.StartAsync(LocalDatabase.ClusterDirectory(parse.GetValue(localDir)!), durable: true, ct);
            await SchemaMigrator.MigrateAsync(cluster.ConnectionString, ct);
            await console.Out.WriteLineAsync(cluster.ConnectionString);
            return Success;
        });

        var stop = new Command("stop", "Stop the embedded PostgreSQL cluster.") { localDir };
        stop.SetAction(async (parse, ct) =>
        {
            var stopped = await LocalPostgresCluster.StopIfRunningAsync(LocalDatabase.ClusterDirectory(parse.GetValue(localDir)!), ct);
            await console.Out.WriteLineAsync(stopped ? "stopped" : "not running");
            return Success;
        });

        return new Command("db", "The embedded PostgreSQL cluster under the local directory.") { start, stop };
    }

    internal static Option<string> LocalDirectoryOption(CliConsole console) => new("--local-dir")
    {
        Description = "Working directory for the local object store and the embedded cluster.",
        DefaultValueFactory = _ => console.Environment(LocalDirectoryVariable) is { Length: > 0 } value ? value : ".local",
    };

    /// <summary><c>DATAPROCESS_DATABASE</c> when set, else the embedded cluster (started on first use).</summary>
    internal static Task<string> DatabaseAsync(CliConsole console, string localDirectory, CancellationToken cancellationToken) =>
        LocalDatabase.ConnectionStringAsync(console.Environment, localDirectory, cancellationToken);
}
