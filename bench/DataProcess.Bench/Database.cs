using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

internal static class Database
{
    public static async Task<string> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return Convert.ToString(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture)!;
    }

    /// <summary>
    /// Exports the rows the run loaded (binary COPY TO), then times a binary COPY of them into an empty table of
    /// the same shape and indexes, committed: the fastest PostgreSQL takes these rows from a client.
    /// </summary>
    public static async Task<double> SinkLimitAsync(string connectionString, string exportFile)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await ExportAsync(connection, "COPY dataprocess.records TO STDOUT (FORMAT binary)", exportFile);
        await ExecuteAsync(connection, "CREATE TABLE dataprocess.sink_limit (LIKE dataprocess.records INCLUDING ALL); CHECKPOINT");

        var stopwatch = Stopwatch.StartNew();
        await ImportAsync(connection, "COPY dataprocess.sink_limit FROM STDIN (FORMAT binary)", exportFile);
        var seconds = stopwatch.Elapsed.TotalSeconds;
        File.Delete(exportFile);
        return seconds;
    }

    /// <summary>
    /// Compares the peer's loaded rows with ours: the peer's (record_id, data) are copied into our database and
    /// joined with <c>dataprocess.records</c>; data is compared as jsonb (keys in any order, numbers by value).
    /// </summary>
    public static async Task<RowCheck> CompareAsync(string ours, string peer, string exportFile)
    {
        await using (var connection = new NpgsqlConnection(peer))
        {
            await connection.OpenAsync();
            await ExportAsync(connection, "COPY (SELECT record_id, data FROM dataprocess.records) TO STDOUT (FORMAT binary)", exportFile);
        }

        await using var ourConnection = new NpgsqlConnection(ours);
        await ourConnection.OpenAsync();
        await ExecuteAsync(ourConnection, "CREATE TABLE public.bench_peer (record_id text PRIMARY KEY, data jsonb NOT NULL)");
        await ImportAsync(ourConnection, "COPY public.bench_peer FROM STDIN (FORMAT binary)", exportFile);
        File.Delete(exportFile);

        long onlyOurs, onlyPeer, differ;
        await using (var command = new NpgsqlCommand(
            """
            SELECT count(*) FILTER (WHERE p.record_id IS NULL),
                   count(*) FILTER (WHERE o.record_id IS NULL),
                   count(*) FILTER (WHERE o.record_id IS NOT NULL AND p.record_id IS NOT NULL AND o.data IS DISTINCT FROM p.data)
            FROM dataprocess.records o FULL JOIN public.bench_peer p ON p.record_id = o.record_id
            """,
            ourConnection) { CommandTimeout = 0 })
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            (onlyOurs, onlyPeer, differ) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        }

        // Which top-level fields differ, so a mismatch says where to look.
        var fields = new List<string>();
        if (differ > 0)
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT d.key, count(*) FROM dataprocess.records o JOIN public.bench_peer p ON p.record_id = o.record_id,
                LATERAL (SELECT key FROM jsonb_each(o.data) a FULL JOIN jsonb_each(p.data) b USING (key) WHERE a.value IS DISTINCT FROM b.value) d
                GROUP BY d.key ORDER BY 2 DESC, 1 LIMIT 5
                """,
                ourConnection) { CommandTimeout = 0 };
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                fields.Add($"{reader.GetString(0)} ×{reader.GetInt64(1)}");
            }
        }

        return new RowCheck(onlyOurs, onlyPeer, differ, fields);
    }

    /// <summary>The connection as a libpq connection string, for psycopg2.</summary>
    public static string Libpq(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var text = new StringBuilder();
        Add("host", builder.Host);
        Add("port", builder.Port.ToString(CultureInfo.InvariantCulture));
        Add("user", builder.Username);
        Add("password", builder.Password);
        Add("dbname", builder.Database);
        return text.ToString().TrimEnd();

        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                text.Append(CultureInfo.InvariantCulture, $"{key}='{value.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("'", @"\'", StringComparison.Ordinal)}' ");
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task ExportAsync(NpgsqlConnection connection, string copyTo, string file)
    {
        await using var export = await connection.BeginRawBinaryCopyAsync(copyTo);
        await using var output = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        await export.CopyToAsync(output, 1 << 20);
    }

    private static async Task ImportAsync(NpgsqlConnection connection, string copyFrom, string file)
    {
        await using var import = await connection.BeginRawBinaryCopyAsync(copyFrom);
        await using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        await input.CopyToAsync(import, 1 << 20);
    }
}

/// <summary>A database of its own for one run, dropped when disposed.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _server;

    private BenchDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(string server, string label)
    {
        var name = $"dataprocess_bench_{label}_{Guid.NewGuid():N}";
        name = name[..Math.Min(name.Length, 63)];
        await Database.ScalarAsync(server, $"CREATE DATABASE {name}");
        return new BenchDatabase(server, name, new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = false }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await Database.ScalarAsync(_server, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }
}

/// <summary>The peer's rows against ours: ids only one side has, and rows whose data differ (with the fields).</summary>
internal sealed record RowCheck(long OnlyOurs, long OnlyPeer, long Differ, IReadOnlyList<string> Fields)
{
    public bool Same => OnlyOurs == 0 && OnlyPeer == 0 && Differ == 0;

    public override string ToString() => Same
        ? "same ids, same data"
        : $"{OnlyOurs} ids only ours, {OnlyPeer} only the peer's, {Differ} rows differ{(Fields.Count > 0 ? $" ({string.Join(", ", Fields)})" : string.Empty)}";
}
