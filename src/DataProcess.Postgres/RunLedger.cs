using Npgsql;

namespace DataProcess.Postgres;

/// <summary>One row of <c>dataprocess.runs</c>, as <c>upload --wait</c> reports it.</summary>
public sealed record RunRecord(Guid RunId, string Dataset, string Status, long Records, long Rejected, long Duplicates, string? Error, double Seconds);

/// <summary>Reads the run ledger: the latest run of a source object.</summary>
public static class RunLedger
{
    /// <summary>The latest run of <paramref name="source"/> (<c>bucket/key</c>), or null when none started yet.</summary>
    public static async Task<RunRecord?> LatestAsync(NpgsqlDataSource dataSource, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(
            """
            SELECT run_id, dataset, status, records, rejected, duplicates, error,
                   coalesce(extract(epoch FROM finished_at - started_at)::float8, 0)
            FROM dataprocess.runs WHERE source = $1 ORDER BY started_at DESC, finished_at DESC NULLS FIRST LIMIT 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = source });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new RunRecord(
            reader.GetGuid(0),
            reader.GetString(1),
            reader.GetString(2),
            reader.IsDBNull(3) ? 0 : reader.GetInt64(3),
            reader.IsDBNull(4) ? 0 : reader.GetInt64(4),
            reader.IsDBNull(5) ? 0 : reader.GetInt64(5),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.GetDouble(7));
    }
}
