using System.Diagnostics;
using System.Text.Json;
using Npgsql;

/// <summary>One cell of the matrix: a size, a profile and a layout.</summary>
internal sealed record Cell(int SizeMb, BenchProfile Profile, Layout Layout)
{
    public string Label => $"{SizeMb}_{Profile.Name}_{Layout.ToString().ToLowerInvariant()}";
}

/// <summary>Where a run's time went, from the run summary's <c>timings</c>; a part the summary lacks is null.</summary>
internal sealed record Timings(double? Enrichment, double? Anonymization, double? Keys, double? ReadMerge, double? Copy, double? Upsert, double? Commit)
{
    /// <summary>Consolidation's parts one after the other: keys pass, read+merge with the COPY, then upsert and commit.</summary>
    public double? Consolidation
    {
        get
        {
            double?[] parts = [Keys, ReadMerge, Copy, Upsert, Commit];
            return parts.All(p => p is null) ? null : parts.Sum(p => p ?? 0);
        }
    }

    public static Timings Read(JsonElement summary)
    {
        if (!summary.TryGetProperty("timings", out var t) || t.ValueKind != JsonValueKind.Object)
        {
            return new Timings(null, null, null, null, null, null, null);
        }

        return new Timings(Get("enrichment"), Get("anonymization"), Get("keys"), Get("readMerge"), Get("copy"), Get("upsert"), Get("commit"));

        double? Get(string name) => t.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;
    }
}

/// <summary>One `dataprocess run` of a cell, in a fresh database.</summary>
internal sealed record CellRun(Measured Process, long Records, long Rejected, long Duplicates, Timings Timings, double? FirstStaged, double? FirstCopied, string Load)
{
    /// <summary>Records in the source: loaded, rejected and superseded duplicates.</summary>
    public long SourceRecords => Records + Rejected + Duplicates;
}

internal static class CellRunner
{
    /// <summary>
    /// Runs `dataprocess run` the way a user does (the CLI, its own process, under /usr/bin/time -v) against
    /// <paramref name="database"/>, while <see cref="FirstRecordWatch"/> notes when the first staged bytes and the
    /// first COPYed row appear.
    /// </summary>
    public static async Task<CellRun> RunAsync(BenchContext context, string input, BenchProfile profile, BenchDatabase database)
    {
        // A local store of its own, so the watch sees only this run's staged files (and a second bench cannot
        // remove them).
        var work = Path.Combine(context.BenchDir, "work", Guid.NewGuid().ToString("N"));
        var load = Machine.LoadAverage();
        var watch = new FirstRecordWatch();
        using var stop = new CancellationTokenSource();
        var watching = watch.WatchAsync(Path.Combine(work, "store", "staging"), database.ConnectionString, stop.Token);
        Measured run;
        try
        {
            run = await Measured.RunAsync(
                ["dotnet", context.Cli, "run", input, "--profile", Path.Combine(context.Root, profile.RelativePath), "--key-file", context.KeyFile, "--local-dir", work, "--json"],
                database.ConnectionString,
                started: watch.Start);
        }
        finally
        {
            await stop.CancelAsync();
            await watching;
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        using var document = JsonDocument.Parse(run.LastLine);
        var summary = document.RootElement;
        return new CellRun(
            run, summary.GetProperty("records").GetInt64(), summary.GetProperty("rejected").GetInt64(), summary.GetProperty("duplicates").GetInt64(),
            Timings.Read(summary), watch.FirstStaged, watch.FirstCopied, load);
    }
}

/// <summary>
/// Time to first record, seen from outside the process: the first staged bytes on disk (start-up, the first
/// batches through a stage, the first flush of its output) and the first row PostgreSQL reports COPYed into
/// <c>dataprocess.records</c> (<c>pg_stat_progress_copy</c>: the load has begun). Polled every 20 ms: the poll costs
/// a few per cent of one core until both moments are seen, then stops.
/// </summary>
internal sealed class FirstRecordWatch
{
    private const int PollMilliseconds = 20;

    private const string CopyStarted =
        """
        SELECT EXISTS (SELECT FROM pg_stat_progress_copy
                       WHERE datname = current_database() AND relid = to_regclass('dataprocess.records') AND tuples_processed > 0)
        """;

    private readonly Stopwatch _clock = new();

    public double? FirstStaged { get; private set; }

    public double? FirstCopied { get; private set; }

    /// <summary>Called the moment the measured process is started.</summary>
    public void Start() => _clock.Start();

    public async Task WatchAsync(string stagingDirectory, string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(CopyStarted, connection);
            while (FirstStaged is null || FirstCopied is null)
            {
                if (_clock.IsRunning)
                {
                    if (FirstStaged is null && HasStagedBytes(stagingDirectory))
                    {
                        FirstStaged = _clock.Elapsed.TotalSeconds;
                    }

                    if (FirstCopied is null && await command.ExecuteScalarAsync(cancellationToken) is true)
                    {
                        FirstCopied = _clock.Elapsed.TotalSeconds;
                    }
                }

                await Task.Delay(PollMilliseconds, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run ended: what was not seen by then stays unknown.
        }
    }

    private static bool HasStagedBytes(string directory)
    {
        try
        {
            return Directory.Exists(directory)
                && Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 0);
        }
        catch (IOException)
        {
            // A staged file renamed or removed while we looked: look again at the next poll.
            return false;
        }
    }
}
