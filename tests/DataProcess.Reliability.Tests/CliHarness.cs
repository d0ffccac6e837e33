using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DataProcess.Testing;
using Npgsql;
using Spectre.Console;

namespace DataProcess.Reliability.Tests;

/// <summary>What one in-process <c>dataprocess</c> invocation printed and returned.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    /// <summary>The non-empty lines of stderr.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Runs the CLI in-process against the shared test PostgreSQL, in a temporary directory of its own
/// (inputs, profiles and the local object store), with an injected environment.
/// </summary>
internal sealed class CliHarness : IDisposable
{
    public const string DefaultProfile = """{"dataset":"people","id":"id","require":["email"],"anonymize":{"email":"hash","name":"hash","phone":"mask","birthDate":"year","ip":"ip-prefix"}}""";

    public CliHarness()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("dp-rel-").FullName;
    }

    public string Directory { get; }

    /// <summary>Sets DATAPROCESS_DEBUG=1 for the next runs: errors then carry their stack trace.</summary>
    public bool Debug { get; set; }

    public string Key { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Where the runs keep their local object store (staging outputs).</summary>
    public string LocalDirectory => Path.Combine(Directory, ".local");

    public string File(string name, string content) => File(name, Encoding.UTF8.GetBytes(content));

    public string File(string name, byte[] content)
    {
        var path = Path.Combine(Directory, name);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Writes a (possibly huge) input through a stream, so the test never holds it in memory.</summary>
    public async Task<string> StreamedFileAsync(string name, Func<Stream, Task> write)
    {
        var path = Path.Combine(Directory, name);
        await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        await write(stream);
        return path;
    }

    public string Profile(string json = DefaultProfile, string name = "profile.json") => File(name, json);

    public Task<CliRun> RunAsync(string database, params string[] args) => RunWithAsync(database, Key, args);

    public Task<CliRun> RunWithAsync(string database, string? key, params string[] args) => RunAsync(database, key, CancellationToken.None, args);

    /// <summary>Runs the CLI with <paramref name="stop"/> as the token Ctrl-C cancels in the real process.</summary>
    public async Task<CliRun> RunAsync(string database, string? key, CancellationToken stop, params string[] args)
    {
        var environment = Environment(database, key);
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var console = new Cli.CliConsole(ansi, output, error, Interactive: false, name => environment.GetValueOrDefault(name));
        var exitCode = await Cli.DataProcessCli.RunAsync(args, console, stop);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>What the runs see: the database, the key, the local directory.</summary>
    public Dictionary<string, string?> Environment(string database, string? key) => new()
    {
        ["DATAPROCESS_DATABASE"] = database,
        ["DATAPROCESS_HMAC_KEY"] = key,
        ["DATAPROCESS_LOCAL_DIR"] = LocalDirectory,
        ["DATAPROCESS_DEBUG"] = Debug ? "1" : null,
    };

    /// <summary>Directories the runs left in the local object store's staging bucket (run directories).</summary>
    public IEnumerable<string> LeftoverDirectories() =>
        System.IO.Directory.Exists(Path.Combine(LocalDirectory, "store", "staging"))
            ? System.IO.Directory.EnumerateDirectories(Path.Combine(LocalDirectory, "store", "staging"), "*", SearchOption.AllDirectories)
            : [];

    /// <summary>Every file the runs left under the local directory (the object store's staging outputs).</summary>
    public IEnumerable<string> LeftoverFiles() =>
        System.IO.Directory.Exists(LocalDirectory)
            ? System.IO.Directory.EnumerateFiles(LocalDirectory, "*", SearchOption.AllDirectories)
            : [];

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>Reads what a run left in the database.</summary>
internal static class Ledger
{
    public static Task<long> RecordsAsync(string database) =>
        PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records");

    /// <summary>The record ids of <paramref name="dataset"/>, in order.</summary>
    public static async Task<IReadOnlyList<string>> IdsAsync(string database, string dataset = "people")
    {
        var ids = new List<string>();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT record_id FROM dataprocess.records WHERE dataset = @dataset ORDER BY record_id", connection);
        command.Parameters.AddWithValue("dataset", dataset);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    public static Task<bool> SchemaExistsAsync(string database) =>
        PostgresFixture.ScalarAsync<bool>(database, "SELECT to_regnamespace('dataprocess') IS NOT NULL");

    public static async Task<IReadOnlyList<RunRow>> RunsAsync(string database)
    {
        var rows = new List<RunRow>();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT run_id, status, source, error, records, rejected, duplicates, dataset, profile_hash, key_fingerprint, matched_run_id, replaced_by
            FROM dataprocess.runs ORDER BY started_at
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new RunRow(
                reader.GetGuid(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6))
            {
                Dataset = reader.GetString(7),
                ProfileHash = reader.IsDBNull(8) ? null : reader.GetString(8),
                KeyFingerprint = reader.IsDBNull(9) ? null : reader.GetString(9),
                MatchedRunId = reader.IsDBNull(10) ? null : reader.GetGuid(10),
                ReplacedBy = reader.IsDBNull(11) ? null : reader.GetGuid(11),
            });
        }

        return rows;
    }

    public static async Task<IReadOnlyList<RejectRow>> RejectsAsync(string database)
    {
        var rows = new List<RejectRow>();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT record_index, record_id, reason FROM dataprocess.rejects ORDER BY record_index", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new RejectRow(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }

    /// <summary>Every column of every record, in key order: two dumps are equal only when nothing changed.</summary>
    public static Task<string> DumpRecordsAsync(string database) =>
        PostgresFixture.ScalarAsync<string>(
            database,
            """
            SELECT coalesce(string_agg(concat_ws(' | ', dataset, record_id, data::text, source, run_id::text, loaded_at::text), E'\n' ORDER BY dataset, record_id), '')
            FROM dataprocess.records
            """);

    /// <summary>Every ledger and reject row of succeeded runs, for replay comparisons.</summary>
    public static Task<string> DumpRejectsAsync(string database) =>
        PostgresFixture.ScalarAsync<string>(
            database,
            "SELECT coalesce(string_agg(concat_ws(' | ', run_id::text, record_index::text, record_id, reason), E'\n' ORDER BY run_id, record_index), '') FROM dataprocess.rejects");
}

internal sealed record RunRow(Guid RunId, string Status, string Source, string? Error, long? Records, long? Rejected, long? Duplicates)
{
    public string Dataset { get; init; } = string.Empty;

    public string? ProfileHash { get; init; }

    public string? KeyFingerprint { get; init; }

    public Guid? MatchedRunId { get; init; }

    public Guid? ReplacedBy { get; init; }
}

internal sealed record RejectRow(long Index, string? Id, string Reason);
