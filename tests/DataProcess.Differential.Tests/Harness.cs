using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;
using DataProcess.Differential.Tests.Generation;
using DataProcess.Differential.Tests.Reference;
using Npgsql;

namespace DataProcess.Differential.Tests;

/// <summary>
/// How many cases run and from which seeds. <c>make test</c> runs a fixed, bounded sequence; the environment widens it
/// (docs/testing.md): <c>DATAPROCESS_DIFFERENTIAL_CASES=N</c> runs the first N cases of the sequence,
/// <c>DATAPROCESS_DIFFERENTIAL_SEED=S</c> replays the one case a failure named, and
/// <c>DATAPROCESS_DIFFERENTIAL_EXPLORE_SECONDS=T</c> adds T seconds of CsCheck sampling from random seeds.
/// </summary>
public static class Harness
{
    private const uint Stream = 20261127;

    public static int Cases(int byDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("DATAPROCESS_DIFFERENTIAL_CASES"), CultureInfo.InvariantCulture, out var cases) ? Math.Max(1, cases * byDefault / 10) : byDefault;

    /// <summary>Runs <paramref name="property"/> on each case; a failure names the case's seed, which replays it alone.</summary>
    public static async Task CheckAsync<T>(Gen<T> generator, int cases, Func<T, Task> property)
    {
        if (Environment.GetEnvironmentVariable("DATAPROCESS_DIFFERENTIAL_SEED") is { Length: > 0 } replay)
        {
            await RunOneAsync(generator, PCG.Parse(replay), property);
            return;
        }

        for (ulong i = 0; i < (ulong)cases; i++)
        {
            await RunOneAsync(generator, new PCG(Stream, i), property);
        }

        if (int.TryParse(Environment.GetEnvironmentVariable("DATAPROCESS_DIFFERENTIAL_EXPLORE_SECONDS"), CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            await generator.SampleAsync(property, time: seconds, threads: 1);
        }
    }

    private static async Task RunOneAsync<T>(Gen<T> generator, PCG pcg, Func<T, Task> property)
    {
        var seed = pcg.ToString();
        var value = generator.Generate(pcg, null, out _);
        try
        {
            await property(value);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new DifferentialException($"DATAPROCESS_DIFFERENTIAL_SEED={seed} replays this case. {e.Message}", e);
        }
    }
}

public sealed class DifferentialException(string message, Exception inner) : Exception(message, inner);

/// <summary>The comparisons: the fast path's output against the reference's.</summary>
public static class Differential
{
    /// <summary>
    /// Every staged line against the reference: the same index, id and reason for a reject; for an accepted record
    /// the same id in both outputs and, merged as Consolidation merges them, the reference's consolidated record.
    /// </summary>
    public static void AssertStaged(ReferenceRun expected, StagedRun staged, string context)
    {
        IReadOnlyList<StagedLine> anonymized, enriched;
        try
        {
            anonymized = StagedRun.Lines(staged.Anonymization);
            enriched = StagedRun.Lines(staged.Enrichment);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{context}: a staged output is not one JSON object per line: {e.Message}", e);
        }

        var problems = new List<string>();
        if (anonymized.Count != expected.Count || enriched.Count != expected.Count)
        {
            problems.Add($"the reference has {expected.Count} records, anonymization staged {anonymized.Count} lines and enrichment {enriched.Count}");
        }

        var rejects = expected.Rejects.ToDictionary(r => r.Index);
        var accepted = expected.Accepted.ToDictionary(r => r.Index);
        for (var i = 0; i < Math.Min(anonymized.Count, enriched.Count) && problems.Count < 5; i++)
        {
            var (a, e) = (anonymized[i], enriched[i]);
            if (a.Index != i || e.Index != i)
            {
                problems.Add($"line {i}: indexes {a.Index} and {e.Index}");
            }
            else if (rejects.TryGetValue(i, out var reject))
            {
                if (a.Reject != reject.Reason || a.Id != reject.Id || (e.Reject is not null && e.Reject != reject.Reason))
                {
                    problems.Add($"record {i}: expected reject ({reject.Id ?? "null"}: {reject.Reason}), staged ({a.Id ?? "null"}: {a.Reject ?? "accepted"}), enrichment ({e.Reject ?? "accepted"})");
                }
            }
            else if (accepted.TryGetValue(i, out var record))
            {
                if (a.Reject is not null || e.Reject is not null || a.Id != record.Id || e.Id != record.Id)
                {
                    problems.Add($"record {i}: expected accepted with id {record.Id}, staged ({a.Id}: {a.Reject ?? "accepted"}), enrichment ({e.Id}: {e.Reject ?? "accepted"})");
                    continue;
                }

                var buffer = new byte[256];
                var length = ConsolidationStage.Merge(Encoding.UTF8.GetBytes(a.Payload!), Encoding.UTF8.GetBytes(e.Payload!), ref buffer);
                var merged = CanonicalJson.Of(buffer.AsSpan(0, length));
                var reference = CanonicalJson.Of(record.Consolidated);
                if (merged != reference)
                {
                    problems.Add($"record {i} ({record.Id}):\n  expected {Shorten(reference)}\n  merged   {Shorten(merged)}");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"{context}: the fast path differs from the reference:\n{string.Join('\n', problems)}");
        }
    }

    /// <summary>
    /// The rows a run left in PostgreSQL against <paramref name="expected"/> (id → JSON), compared as jsonb in SQL, plus
    /// nothing else loaded for the dataset.
    /// </summary>
    public static async Task AssertLoadedAsync(string connectionString, string dataset, IReadOnlyDictionary<string, string> expected, string context)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var differing = new NpgsqlCommand(
            """
            SELECT e.id, coalesce(r.data::text, '(no row)') FROM unnest(@ids::text[], @data::text[]) AS e(id, data)
            LEFT JOIN dataprocess.records r ON r.dataset = @dataset AND r.record_id = e.id
            WHERE r.data IS DISTINCT FROM e.data::jsonb
            ORDER BY e.id LIMIT 5
            """,
            connection))
        {
            differing.Parameters.AddWithValue("ids", expected.Keys.ToArray());
            differing.Parameters.AddWithValue("data", expected.Values.ToArray());
            differing.Parameters.AddWithValue("dataset", dataset);
            var problems = new List<string>();
            await using (var reader = await differing.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    var id = reader.GetString(0);
                    problems.Add($"id {id}:\n  expected {Shorten(expected[id])}\n  loaded   {Shorten(reader.GetString(1))}");
                }
            }

            problems.Should().BeEmpty($"{context}: every loaded row must be jsonb-equal to the expected one");
        }

        await using var count = new NpgsqlCommand("SELECT count(*) FROM dataprocess.records WHERE dataset = @dataset", connection);
        count.Parameters.AddWithValue("dataset", dataset);
        ((long)(await count.ExecuteScalarAsync())!).Should().Be(expected.Count, $"{context}: no other row may load");
    }

    /// <summary>A run's rejects, in record order, as (index, id, reason).</summary>
    public static async Task<List<(long Index, string? Id, string Reason)>> RejectsAsync(string connectionString, Guid runId)
    {
        var rejects = new List<(long, string?, string)>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT record_index, record_id, reason FROM dataprocess.rejects WHERE run_id = @run ORDER BY record_index", connection);
        command.Parameters.AddWithValue("run", runId);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rejects.Add((reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2)));
        }

        return rejects;
    }

    /// <summary>Every loaded row of a dataset, id → data as text.</summary>
    public static async Task<Dictionary<string, string>> RowsAsync(string connectionString, string dataset)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT record_id, data::text FROM dataprocess.records WHERE dataset = @dataset", connection);
        command.Parameters.AddWithValue("dataset", dataset);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetString(1);
        }

        return rows;
    }

    public static Dictionary<string, string> Json(Dictionary<string, JsonObject> rows) =>
        rows.ToDictionary(r => r.Key, r => r.Value.ToJsonString(), StringComparer.Ordinal);

    private static string Shorten(string text) => text.Length <= 600 ? text : text[..600] + $"… ({text.Length} characters)";
}
