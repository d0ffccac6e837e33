using System.Text;
using DataProcess.Core.Ports;

namespace DataProcess.Testing;

/// <summary>One row of a test load: a record (id and JSON) or a reject (its reason, and its id when it has one).</summary>
public readonly record struct LoadRow(string? Id, string? Json, string? Reason = null)
{
    public static LoadRow Record(string id, string json) => new(id, json);

    public static LoadRow Reject(string? id, string reason) => new(id, null, reason);

    public static implicit operator LoadRow((string Id, string Json) record) => Record(record.Id, record.Json);
}

/// <summary>Drives the sink's load protocol the way Consolidation does: keys and rejects, then the records.</summary>
public static class SinkLoads
{
    /// <summary>A run with an identity (profile "profile-1", key "key-1" unless given).</summary>
    public static RunDescriptor Run(string dataset, string source, string etag = "etag-1", string profileHash = "profile-1", string keyFingerprint = "key-1") =>
        new(Guid.NewGuid(), dataset, source, etag, DateTimeOffset.UtcNow) { ProfileHash = profileHash, KeyFingerprint = keyFingerprint };

    /// <summary>Loads <paramref name="rows"/> in order; null when the sink skipped the run.</summary>
    public static async Task<LoadResult?> LoadAsync(IRecordSink sink, RunDescriptor run, bool reprocess, params LoadRow[] rows)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(rows);
        if (await sink.BeginAsync(run, reprocess) is not LoadStart.Started started)
        {
            return null;
        }

        await using var load = started.Load;
        await AddKeysAsync(load, rows);
        await load.EndKeysAsync();
        await AddRecordsAsync(load, rows);
        return await load.CompleteAsync();
    }

    public static Task<LoadResult?> LoadAsync(IRecordSink sink, RunDescriptor run, params LoadRow[] rows) => LoadAsync(sink, run, reprocess: false, rows);

    /// <summary>Pass one.</summary>
    public static async Task AddKeysAsync(IRunLoad load, IReadOnlyList<LoadRow> rows)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(rows);
        for (var index = 0; index < rows.Count; index++)
        {
            if (rows[index].Reason is { } reason)
            {
                await load.AddRejectAsync(index, rows[index].Id, reason);
            }
            else
            {
                await load.AddKeyAsync(index, rows[index].Id!);
            }
        }
    }

    /// <summary>Pass two.</summary>
    public static async Task AddRecordsAsync(IRunLoad load, IReadOnlyList<LoadRow> rows)
    {
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(rows);
        for (var index = 0; index < rows.Count; index++)
        {
            if (rows[index].Reason is null)
            {
                await load.AddRecordAsync(index, rows[index].Id!, Encoding.UTF8.GetBytes(rows[index].Json!));
            }
        }
    }
}
