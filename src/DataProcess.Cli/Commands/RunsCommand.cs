using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace DataProcess.Cli;

/// <summary><c>dataprocess runs</c>: recent runs from the ledger (<c>dataprocess.runs</c>), newest first.</summary>
internal static class RunsCommand
{
    public static readonly string[] Statuses = ["succeeded", "failed", "skipped"];

    public static Command Create(CliConsole console)
    {
        var dataset = new Option<string?>("--dataset") { Description = "Only runs of this dataset." };
        var status = new Option<string?>("--status") { Description = "Only runs with this status: succeeded, failed or skipped." };
        status.AcceptOnlyFromAmong(Statuses);
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many runs (1-10000).", DefaultValueFactory = _ => 20 };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 10000)
            {
                result.AddError("--limit must be between 1 and 10000");
            }
        });
        var json = new Option<bool>("--json") { Description = "One JSON object per line (run id, dataset, source, status, counts, seconds, error)." };
        var localDir = DataProcessCli.LocalDirectoryOption(console);
        var command = new Command("runs", "List recent runs from the ledger, newest first.") { dataset, status, limit, json, localDir };
        command.SetAction(async (parse, ct) =>
        {
            var connectionString = await DataProcessCli.DatabaseAsync(console, parse.GetValue(localDir)!, ct);
            await Postgres.SchemaMigrator.MigrateAsync(connectionString, ct);
            await using var source = NpgsqlDataSource.Create(connectionString);
            await using var query = source.CreateCommand("""
                SELECT run_id, dataset, source, status, records, rejected, duplicates,
                       extract(epoch FROM finished_at - started_at)::float8, started_at, error
                FROM dataprocess.runs
                WHERE ($1::text IS NULL OR dataset = $1) AND ($2::text IS NULL OR status = $2)
                ORDER BY started_at DESC, run_id
                LIMIT $3
                """);
            query.Parameters.Add(new NpgsqlParameter { Value = (object?)parse.GetValue(dataset) ?? DBNull.Value, DataTypeName = "text" });
            query.Parameters.Add(new NpgsqlParameter { Value = (object?)parse.GetValue(status) ?? DBNull.Value, DataTypeName = "text" });
            query.Parameters.Add(new NpgsqlParameter { Value = parse.GetValue(limit) });
            await using var reader = await query.ExecuteReaderAsync(ct);
            var asJson = parse.GetValue(json);
            if (!asJson)
            {
                await console.Out.WriteLineAsync($"{"run",-36}  {"dataset",-12} {"status",-9} {"records",8} {"rejected",8} {"dupes",6} {"seconds",8}  source / error");
            }

            while (await reader.ReadAsync(ct))
            {
                long? Count(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
                var seconds = reader.IsDBNull(7) ? (double?)null : Math.Round(reader.GetDouble(7), 3);
                var error = reader.IsDBNull(9) ? null : reader.GetString(9);
                if (asJson)
                {
                    await console.Out.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["runId"] = reader.GetGuid(0).ToString("D"),
                        ["dataset"] = reader.GetString(1),
                        ["source"] = reader.GetString(2),
                        ["status"] = reader.GetString(3),
                        ["records"] = Count(4),
                        ["rejected"] = Count(5),
                        ["duplicates"] = Count(6),
                        ["seconds"] = seconds,
                        ["startedAt"] = reader.GetFieldValue<DateTimeOffset>(8).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                        ["error"] = error,
                    }, CliJsonContext.Default.DictionaryStringObject));
                    continue;
                }

                string Text(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "-";
                var tail = error is null ? reader.GetString(2) : $"{reader.GetString(2)}: {error}";
                await console.Out.WriteLineAsync($"{reader.GetGuid(0):D}  {reader.GetString(1),-12} {reader.GetString(3),-9} {Text(Count(4)),8} {Text(Count(5)),8} {Text(Count(6)),6} {seconds?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-",8}  {tail}");
            }

            return DataProcessCli.Success;
        });
        return command;
    }
}
