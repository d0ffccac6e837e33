using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace DataProcess.Cli;

/// <summary><c>dataprocess rejects RUN_ID</c>: the records a run rejected (<c>dataprocess.rejects</c>): index, id, reason.</summary>
internal static class RejectsCommand
{
    public static Command Create(CliConsole console)
    {
        var runId = new Argument<string>("RUN_ID") { Description = "The run (as `dataprocess runs` lists it)." };
        var json = new Option<bool>("--json") { Description = "One JSON object per line: index, id, reason." };
        var localDir = DataProcessCli.LocalDirectoryOption(console);
        var command = new Command("rejects", "List the records a run rejected: their index in the file, id and reason.") { runId, json, localDir };
        command.SetAction(async (parse, ct) =>
        {
            var text = parse.GetValue(runId)!;
            if (!Guid.TryParse(text, out var id))
            {
                throw new UsageException($"RUN_ID '{text}' is not a run id (a UUID such as 0b9e4bd2-4c1f-4d7a-9d55-2f0d7f5f4a10)");
            }

            var connectionString = await DataProcessCli.DatabaseAsync(console, parse.GetValue(localDir)!, ct);
            await Postgres.SchemaMigrator.MigrateAsync(connectionString, ct);
            await using var source = NpgsqlDataSource.Create(connectionString);
            await using (var exists = source.CreateCommand("SELECT count(*) FROM dataprocess.runs WHERE run_id = $1"))
            {
                exists.Parameters.Add(new NpgsqlParameter { Value = id });
                if ((long)(await exists.ExecuteScalarAsync(ct))! == 0)
                {
                    throw new InvalidOperationException($"no run {id:D} in the ledger (dataprocess runs lists them)");
                }
            }

            await using var query = source.CreateCommand("SELECT record_index, record_id, reason FROM dataprocess.rejects WHERE run_id = $1 ORDER BY record_index");
            query.Parameters.Add(new NpgsqlParameter { Value = id });
            await using var reader = await query.ExecuteReaderAsync(ct);
            var asJson = parse.GetValue(json);
            if (!asJson)
            {
                await console.Out.WriteLineAsync($"{"index",8}  {"id",-20} reason");
            }

            while (await reader.ReadAsync(ct))
            {
                var recordId = reader.IsDBNull(1) ? null : reader.GetString(1);
                if (asJson)
                {
                    await console.Out.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, object?> { ["index"] = reader.GetInt64(0), ["id"] = recordId, ["reason"] = reader.GetString(2) }, CliJsonContext.Default.DictionaryStringObject));
                }
                else
                {
                    await console.Out.WriteLineAsync($"{reader.GetInt64(0).ToString(CultureInfo.InvariantCulture),8}  {recordId ?? "-",-20} {reader.GetString(2)}");
                }
            }

            return DataProcessCli.Success;
        });
        return command;
    }
}

/// <summary>A command's arguments were wrong in a way the parser cannot see: exit 2, like a parse error.</summary>
internal sealed class UsageException(string message) : Exception(message);
