using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DataProcess.Local;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;
using DataProcess.Postgres;

namespace DataProcess.Differential.Tests;

/// <summary>One staged line, as the harness reads it back (its own simple parse, not the pipeline's readers).</summary>
public sealed record StagedLine(long Index, string? Id, string? Reject, string? Payload);

/// <summary>What the two stages wrote for one input.</summary>
public sealed record StagedRun(byte[] Anonymization, byte[] Enrichment, StageRequest Request, IReadOnlyList<StageResult> Results)
{
    public static IReadOnlyList<StagedLine> Lines(byte[] output)
    {
        var lines = new List<StagedLine>();
        foreach (var line in Encoding.UTF8.GetString(output).Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            var id = root.GetProperty("id");
            root.TryGetProperty("x", out var reject);
            var payload = root.TryGetProperty("r", out var r) ? r : root.TryGetProperty("e", out var e) ? e : default;
            lines.Add(new StagedLine(
                root.GetProperty("i").GetInt64(),
                id.ValueKind == JsonValueKind.Null ? null : id.GetString(),
                reject.ValueKind == JsonValueKind.String ? reject.GetString() : null,
                payload.ValueKind == JsonValueKind.Undefined ? null : payload.GetRawText()));
        }

        return lines;
    }
}

/// <summary>
/// Runs the production stages on one input in a directory object store: Enrichment and Anonymization as the state
/// machine runs them (side by side), then, for the database tests, Consolidation into the real PostgreSQL sink.
/// </summary>
internal sealed class FastPath : IAsyncDisposable
{
    public static readonly DateTimeOffset StartedAt = new(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);

    public static readonly byte[] Key = SHA256.HashData("the differential harness key"u8);

    private readonly string _root = Directory.CreateTempSubdirectory("dp-diff-").FullName;

    public FastPath()
    {
        Store = new DirectoryObjectStore(_root);
    }

    public DirectoryObjectStore Store { get; }

    public async Task<StagedRun> StageAsync(byte[] input, string profileJson, StageParallelism? parallelism = null)
    {
        var name = Guid.NewGuid().ToString("N");
        Write("source", $"incoming/{name}.json", input);
        Write("config", $"profiles/{name}.json", Encoding.UTF8.GetBytes(profileJson));
        var request = new StageRequest
        {
            RunId = Guid.NewGuid(),
            StartedAt = StartedAt,
            Source = new ObjectRef("source", $"incoming/{name}.json"),
            SourceETag = Convert.ToHexStringLower(MD5.HashData(input)),
            Profile = new ObjectRef("config", $"profiles/{name}.json"),
            Staging = new StagingLocation("staging", "runs"),
        };
        var chosen = parallelism ?? StageParallelism.Default;
        var enrichment = new EnrichmentStage(Store) { Parallelism = chosen }.RunAsync(request);
        var anonymization = new AnonymizationStage(Store, new FixedKey()) { Parallelism = chosen }.RunAsync(request);
        StageResult[] results = [await enrichment, await anonymization];
        return new StagedRun(Read(results[1].Output), Read(results[0].Output), request, results);
    }

    /// <summary>Consolidation of a staged run into the real PostgreSQL sink, through the public stage.</summary>
    public async Task<RunSummary> ConsolidateAsync(StagedRun staged, string connectionString)
    {
        await using var sink = PostgresRecordSink.Create(connectionString);
        return await new ConsolidationStage(Store, sink).RunAsync(ConsolidationRequest.After(staged.Request, staged.Results));
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return ValueTask.CompletedTask;
    }

    private byte[] Read(ObjectRef obj) => File.ReadAllBytes(Path.Combine(_root, obj.Bucket, obj.Key));

    private void Write(string bucket, string key, byte[] content)
    {
        var path = Path.Combine(_root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    private sealed class FixedKey : IHmacKeySource
    {
        public Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default) => Task.FromResult(new HmacKey(Key));
    }
}
