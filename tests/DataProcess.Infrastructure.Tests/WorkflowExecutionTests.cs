using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DataProcess.Cli;
using DataProcess.Core.Local;
using DataProcess.Core.Ports;
using DataProcess.Postgres;
using DataProcess.Testing;

namespace DataProcess.Infrastructure.Tests;

/// <summary>
/// workflow.asl.json executed by a real Step Functions engine (aws-local-stepfunctions, from tools/)
/// on EventBridge "Object Created" events, its Task states reaching the real handlers through the
/// Lambda Invoke API that <c>dataprocess lambda-serve</c> serves, data landing in PostgreSQL.
/// </summary>
public sealed class WorkflowExecutionTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dp-workflow-").FullName;

    [Fact]
    public async Task An_object_created_event_runs_both_stages_and_loads_the_sample()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/5f0c/customers.json", File.ReadAllBytes(Repository.File("samples/customers.json")));

        var execution = await ExecuteAsync(database, key);

        execution["status"]!.GetValue<string>().Should().Be("SUCCEEDED", execution.ToJsonString());
        var output = execution["output"]!;
        output["status"]!.GetValue<string>().Should().Be("succeeded");
        output["dataset"]!.GetValue<string>().Should().Be("customers");
        var records = output["records"]!.GetValue<long>();
        records.Should().BeGreaterThan(4000);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(records);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT source FROM dataprocess.runs")).Should().Be($"input/{key}");
        Directory.EnumerateFiles(Path.Combine(_root, "staging", "staging"), "*.ndjson", SearchOption.AllDirectories).Should().HaveCount(2, "the stage outputs stay for the bucket's lifecycle rule");
    }

    [Fact]
    public async Task A_replayed_event_ends_at_the_replay_check_as_skipped()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/77aa/customers.json", File.ReadAllBytes(Repository.File("samples/customers.json")));
        var first = await ExecuteAsync(database, key);
        var stagedAfterFirst = Directory.EnumerateFiles(Path.Combine(_root, "staging", "staging"), "*.ndjson", SearchOption.AllDirectories).Count();

        var replay = await ExecuteAsync(database, key);

        first["output"]!["status"]!.GetValue<string>().Should().Be("succeeded");
        replay["status"]!.GetValue<string>().Should().Be("SUCCEEDED", replay.ToJsonString());
        replay["output"]!["status"]!.GetValue<string>().Should().Be("skipped");
        replay["output"]!["records"]!.GetValue<long>().Should().Be(0);
        Directory.EnumerateFiles(Path.Combine(_root, "staging", "staging"), "*.ndjson", SearchOption.AllDirectories).Count()
            .Should().Be(stagedAfterFirst, "neither stage ran for the replay");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(status, ',' ORDER BY finished_at) FROM dataprocess.runs")).Should().Be("succeeded,skipped");
    }

    [Fact]
    public async Task A_branch_that_fails_for_good_takes_the_catch_path_records_the_run_and_quarantines_the_source()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/9a1d/broken.json", """{"result":[{"id":"x1","email":"a@example.org"},{"id":"""u8.ToArray());

        var execution = await ExecuteAsync(database, key);

        execution["status"]!.GetValue<string>().Should().Be("FAILED", execution.ToJsonString());
        execution["error"]!.GetValue<string>().Should().Be("DataProcess.RunFailed");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT status || ' | ' || error FROM dataprocess.runs"))
            .Should().Be("failed | MalformedInputException: broken.json: the input ends in the middle of a value at line 1, column 54 (byte offset 53); the file looks truncated");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
        File.Exists(Path.Combine(_root, "input", "quarantine", "2026", "11", "27", "9a1d", "broken.json")).Should().BeTrue();
        File.Exists(Path.Combine(_root, "input", key)).Should().BeFalse();
    }

    [Fact]
    public async Task An_event_without_an_etag_is_recorded_as_failed_and_its_source_quarantined()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/e7a0/customers.json", File.ReadAllBytes(Repository.File("samples/customers.json")));

        var execution = await ExecuteAsync(database, key, edit: e => e["detail"]!["object"]!.AsObject().Remove("etag"));

        execution["status"]!.GetValue<string>().Should().Be("FAILED", execution.ToJsonString());
        execution["error"]!.GetValue<string>().Should().Be("DataProcess.RunFailed");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT status || ' | ' || source_etag || ' | ' || error FROM dataprocess.runs"))
            .Should().StartWith("failed | unknown | DataProcess.MalformedEvent: The event has no string id, timestamp time or detail.object.etag");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
        File.Exists(Path.Combine(_root, "input", "quarantine", "2026", "11", "27", "e7a0", "customers.json")).Should().BeTrue();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private async Task<JsonNode> ExecuteAsync(string database, string key, Action<JsonObject>? edit = null)
    {
        Put("staging", "profiles/customers.json", File.ReadAllBytes(Repository.File("samples/customers.profile.json")));
        await SchemaMigrator.MigrateAsync(database);
        await using var sink = PostgresRecordSink.Create(database);
        var store = new DirectoryObjectStore(_root);
        var keys = new FixedKey(RandomNumberGenerator.GetBytes(32));
        using var stop = new CancellationTokenSource();
        await using var server = new LambdaInvokeServer(WorkflowFunctions.Create(store, sink, keys, quarantine: true).BySuffix(), port: 0, TextWriter.Null);
        var serving = server.RunAsync(stop.Token);
        try
        {
            var head = await store.HeadAsync(new ObjectRef("input", key));
            var eventFile = Path.Combine(_root, "event.json");
            var objectCreated = ObjectCreatedEvent("input", key, head.Size, head.ETag);
            edit?.Invoke(objectCreated);
            await File.WriteAllTextAsync(eventFile, objectCreated.ToJsonString());
            return await RunWorkflowAsync(server.Url, eventFile);
        }
        finally
        {
            await stop.CancelAsync();
            await serving;
        }
    }

    /// <summary>What S3 sends EventBridge for a new object (the fields the state machine reads, and the rest).</summary>
    private static JsonObject ObjectCreatedEvent(string bucket, string key, long size, string etag) => new()
    {
        ["version"] = "0",
        ["id"] = Guid.NewGuid().ToString("D"),
        ["detail-type"] = "Object Created",
        ["source"] = "aws.s3",
        ["account"] = "000000000000",
        ["time"] = "2026-11-27T08:00:00Z",
        ["region"] = "us-east-1",
        ["resources"] = new JsonArray($"arn:aws:s3:::{bucket}"),
        ["detail"] = new JsonObject
        {
            ["version"] = "0",
            ["bucket"] = new JsonObject { ["name"] = bucket },
            ["object"] = new JsonObject { ["key"] = key, ["size"] = size, ["etag"] = etag, ["sequencer"] = "0062E99A88DC407460" },
            ["request-id"] = "N4N7GDK58NMKJ12R",
            ["requester"] = "000000000000",
            ["reason"] = "PutObject",
        },
    };

    private static async Task<JsonNode> RunWorkflowAsync(Uri lambdaEndpoint, string eventFile)
    {
        var script = Repository.File("tools/run-workflow.mjs");
        File.Exists(Repository.File("tools/node_modules/aws-local-stepfunctions/package.json")).Should().BeTrue("the Node tools are installed (make tools, or npm ci in tools/)");
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { script, "--event", eventFile, "--set", "profile_bucket=staging", "--set", "profile_key=profiles/customers.json", "--set", "staging_bucket=staging" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        start.Environment["AWS_ENDPOINT_URL_LAMBDA"] = lambdaEndpoint.ToString();
        start.Environment["NODE_NO_WARNINGS"] = "1";
        using var node = Process.Start(start)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await node.WaitForExitAsync(timeout.Token);
        node.ExitCode.Should().Be(0, await error);
        return JsonNode.Parse((await output).Trim())!;
    }

    private string Put(string bucket, string key, byte[] content)
    {
        var path = Path.Combine(_root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return key;
    }

    private sealed class FixedKey(byte[] key) : IHmacKeySource
    {
        public Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default) => Task.FromResult(new HmacKey(key));
    }
}
