using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DataProcess.Cli;
using DataProcess.Core.Ports;
using DataProcess.Local;
using DataProcess.Postgres;
using DataProcess.Testing;

namespace DataProcess.Infrastructure.Tests;

/// <summary>
/// Consolidation throttled as Lambda throttles a function whose reserved concurrency is used up:
/// the local Lambda endpoint answers 429 TooManyRequestsException, the local Step Functions engine
/// names it Lambda.TooManyRequestsException as the service does, and the workflow's Retry must
/// carry every run through.
/// </summary>
public sealed class WorkflowThrottlingTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dp-throttle-").FullName;

    [Fact]
    public async Task More_uploads_at_once_than_consolidation_may_run_all_succeed_through_the_throttle_retry()
    {
        const int Uploads = 3;
        var database = await postgres.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(database);
        await using var sink = PostgresRecordSink.Create(database);
        var store = new DirectoryObjectStore(_root);
        Put("staging", "profiles/customers.json", File.ReadAllBytes(Repository.File("profiles/customers.json")));
        var sample = File.ReadAllBytes(Repository.File("samples/customers.json"));
        var functions = WorkflowFunctions.Create(store, sink, new FixedKey(RandomNumberGenerator.GetBytes(32)), quarantine: true);

        // The first consolidation waits until another one has been throttled, so every execution of
        // this test meets the throttle however the stages' timings fall.
        var log = new ThrottleLog();
        var held = 0;
        async Task<Stream> Consolidation(Stream input)
        {
            if (Interlocked.Exchange(ref held, 1) == 0)
            {
                await log.FirstThrottle.WaitAsync(TimeSpan.FromMinutes(1));
            }

            return await functions.Consolidation(input);
        }

        var handlers = functions.BySuffix().Select(f => f.Suffix == "-consolidation" ? (f.Suffix, (Func<Stream, Task<Stream>>)Consolidation) : f).ToList();
        await using var server = new LambdaInvokeServer(handlers, port: 0, log, new Dictionary<string, int> { ["consolidation"] = 1 });
        using var stop = new CancellationTokenSource();
        var serving = server.RunAsync(stop.Token);
        try
        {
            var executions = await Task.WhenAll(Enumerable.Range(0, Uploads).Select(async i =>
            {
                var key = Put("input", $"incoming/customers/2026/12/03/{i:D4}/customers.json", sample);
                var head = await store.HeadAsync(new ObjectRef("input", key));
                var eventFile = Path.Combine(_root, $"event-{i}.json");
                await File.WriteAllTextAsync(eventFile, WorkflowExecutionTests.ObjectCreatedEvent("input", key, head.Size, head.ETag).ToJsonString());
                return await WorkflowExecutionTests.RunWorkflowAsync(server.Url, eventFile);
            }));

            log.Throttles.Should().BeGreaterThan(0, "consolidation was invoked over its limit");
            executions.Select(e => e["status"]!.GetValue<string>()).Should().AllBe("SUCCEEDED", string.Join("\n", executions.Select(e => e.ToJsonString())));
            executions.Select(e => e["output"]!["status"]!.GetValue<string>()).Should().AllBe("succeeded");
            (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.runs WHERE status = 'succeeded'")).Should().Be(Uploads);
            Directory.Exists(Path.Combine(_root, "input", "quarantine")).Should().BeFalse("no good file is quarantined");
        }
        finally
        {
            await stop.CancelAsync();
            await serving;
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Put(string bucket, string key, byte[] content)
    {
        var path = Path.Combine(_root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return key;
    }

    /// <summary>The server's log, counting the invocations it answered as throttled.</summary>
    private sealed class ThrottleLog : StringWriter
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _throttles;

        public Task FirstThrottle => _first.Task;

        public int Throttles => Volatile.Read(ref _throttles);

        public override Task WriteLineAsync(string? value)
        {
            if (value?.Contains(": throttled", StringComparison.Ordinal) == true)
            {
                Interlocked.Increment(ref _throttles);
                _first.TrySetResult();
            }

            return Task.CompletedTask;
        }
    }

    private sealed class FixedKey(byte[] key) : IHmacKeySource
    {
        public Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default) => Task.FromResult(new HmacKey(key));
    }
}
