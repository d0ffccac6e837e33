using System.Text;
using DataProcess.Core.Ports;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Postgres.Tests;

/// <summary>A fresh migrated database on the shared test server, with the sink under test and query helpers.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly PostgresFixture _fixture;

    private TestDatabase(PostgresFixture fixture, string connectionString)
    {
        _fixture = fixture;
        ConnectionString = connectionString;
        Name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        DataSource = NpgsqlDataSource.Create(connectionString);
        Sink = new PostgresRecordSink(DataSource);
    }

    public string ConnectionString { get; }

    public string Name { get; }

    public NpgsqlDataSource DataSource { get; }

    public PostgresRecordSink Sink { get; }

    public static async Task<TestDatabase> CreateAsync(PostgresFixture fixture, bool migrate = true)
    {
        var database = new TestDatabase(fixture, await fixture.CreateDatabaseAsync());
        if (migrate)
        {
            await SchemaMigrator.MigrateAsync(database.DataSource);
        }

        return database;
    }

    public static RunDescriptor Run(string source, string etag = "etag-1", string dataset = "customers", string profileHash = "profile-1", string keyFingerprint = "key-1") =>
        SinkLoads.Run(dataset, source, etag, profileHash, keyFingerprint);

    public static ReadOnlyMemory<byte> Json(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>Loads <paramref name="rows"/> in order, in the sink's two passes; null when the sink skipped the run.</summary>
    public Task<LoadResult?> LoadAsync(RunDescriptor run, params LoadRow[] rows) => SinkLoads.LoadAsync(Sink, run, rows);

    /// <summary>Opens a load of <paramref name="run"/>, which must not be skipped.</summary>
    public async Task<IRunLoad> BeginAsync(RunDescriptor run, bool reprocess = false)
    {
        var start = await Sink.BeginAsync(run, reprocess);
        return start.Should().BeOfType<LoadStart.Started>().Subject.Load;
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task<IReadOnlyDictionary<string, RecordRow>> RecordsAsync(string dataset = "customers")
    {
        var rows = new Dictionary<string, RecordRow>();
        await using var command = DataSource.CreateCommand(
            "SELECT record_id, data::text, source, run_id, loaded_at FROM dataprocess.records WHERE dataset = $1 ORDER BY record_id");
        command.Parameters.Add(new NpgsqlParameter { Value = dataset });
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0), new RecordRow(reader.GetString(1), reader.GetString(2), reader.GetGuid(3), reader.GetFieldValue<DateTimeOffset>(4)));
        }

        return rows;
    }

    public async Task<string?> FieldAsync(string recordId, string field, string dataset = "customers")
    {
        await using var command = DataSource.CreateCommand("SELECT data ->> $3 FROM dataprocess.records WHERE dataset = $1 AND record_id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = dataset });
        command.Parameters.Add(new NpgsqlParameter { Value = recordId });
        command.Parameters.Add(new NpgsqlParameter { Value = field });
        return await command.ExecuteScalarAsync() as string;
    }

    public async Task<IReadOnlyList<RunRow>> RunsAsync()
    {
        var rows = new List<RunRow>();
        await using var command = DataSource.CreateCommand(
            """
            SELECT run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at, error,
                   superseded, profile_hash, key_fingerprint, matched_run_id, replaced_by
            FROM dataprocess.runs ORDER BY started_at, run_id
            """);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new RunRow(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                reader.IsDBNull(10) ? null : reader.GetString(10))
            {
                Superseded = reader.IsDBNull(11) ? null : reader.GetInt64(11),
                ProfileHash = reader.IsDBNull(12) ? null : reader.GetString(12),
                KeyFingerprint = reader.IsDBNull(13) ? null : reader.GetString(13),
                MatchedRunId = reader.IsDBNull(14) ? null : reader.GetGuid(14),
                ReplacedBy = reader.IsDBNull(15) ? null : reader.GetGuid(15),
            });
        }

        return rows;
    }

    public async Task<RunRow> RunAsync(Guid runId) => (await RunsAsync()).Single(r => r.RunId == runId);

    public async Task<IReadOnlyList<RejectRow>> RejectsAsync()
    {
        var rows = new List<RejectRow>();
        await using var command = DataSource.CreateCommand("SELECT run_id, record_index, record_id, reason FROM dataprocess.rejects ORDER BY run_id, record_index");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new RejectRow(reader.GetGuid(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3)));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await Sink.DisposeAsync();
        await DataSource.DisposeAsync();
        await _fixture.DropDatabaseAsync(Name);
    }
}

internal sealed record RecordRow(string Data, string Source, Guid RunId, DateTimeOffset LoadedAt);

internal sealed record RunRow(
    Guid RunId, string Dataset, string Source, string SourceETag, string Status,
    long? Records, long? Rejected, long? Duplicates, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Error)
{
    public long? Superseded { get; init; }

    public string? ProfileHash { get; init; }

    public string? KeyFingerprint { get; init; }

    public Guid? MatchedRunId { get; init; }

    public Guid? ReplacedBy { get; init; }
}

internal sealed record RejectRow(Guid RunId, long RecordIndex, string? RecordId, string Reason);
