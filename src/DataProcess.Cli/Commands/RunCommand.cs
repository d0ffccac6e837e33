using System.CommandLine;
using System.Globalization;
using DataProcess.Core.Payloads;
using DataProcess.Local;
using DataProcess.Postgres;

namespace DataProcess.Cli;

/// <summary><c>dataprocess run INPUT --profile FILE</c>: the whole pipeline on one file, locally.</summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new Argument<FileInfo>("INPUT") { Description = "The JSON or NDJSON file to load." };
        var profile = new Option<FileInfo>("--profile", "-p") { Description = "The profile: what to read, what is personal, what to add.", Required = true };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "The HMAC key (base64, at least 32 bytes). Default: $DATAPROCESS_HMAC_KEY." };
        var localDir = DataProcessCli.LocalDirectoryOption(console);
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
            var connectionString = await DataProcessCli.DatabaseAsync(console, directory, ct);
            await SchemaMigrator.MigrateAsync(connectionString, ct);
            await using var sink = PostgresRecordSink.Create(connectionString);

            var pipeline = new LocalPipeline(sink, keys, directory);
            var progress = new RunProgress();
            var result = await ProgressDisplay.RunAsync(console, progress, () => pipeline.RunAsync(inputFile.FullName, profileFile.FullName, progress, ct, parse.GetValue(reprocess)));
            await WriteSummaryAsync(console, result, parse.GetValue(json));
            return DataProcessCli.Success;
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
}
