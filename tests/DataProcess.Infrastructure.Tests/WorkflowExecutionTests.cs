using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DataProcess.Cli;
using DataProcess.Local;
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
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

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

        var execution = await ExecuteAsync(database, key, input: e => e["detail"]!["object"]!.AsObject().Remove("etag"));

        execution["status"]!.GetValue<string>().Should().Be("FAILED", execution.ToJsonString());
        execution["error"]!.GetValue<string>().Should().Be("DataProcess.RunFailed");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT status || ' | ' || source_etag || ' | ' || error FROM dataprocess.runs"))
            .Should().StartWith("failed | unknown | DataProcess.MalformedEvent: The event has no string id, timestamp time or detail.object.etag");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
        File.Exists(Path.Combine(_root, "input", "quarantine", "2026", "11", "27", "e7a0", "customers.json")).Should().BeTrue();
    }

    [Fact]
    public async Task A_replayed_event_with_reprocess_true_in_the_execution_input_loads_again()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/3c3c/customers.json", File.ReadAllBytes(Repository.File("samples/customers.json")));
        var first = await ExecuteAsync(database, key);

        var forced = await ExecuteAsync(database, key, input => input["reprocess"] = true);

        forced["status"]!.GetValue<string>().Should().Be("SUCCEEDED", forced.ToJsonString());
        forced["output"]!["status"]!.GetValue<string>().Should().Be("succeeded");
        forced["output"]!["records"]!.GetValue<long>().Should().Be(first["output"]!["records"]!.GetValue<long>());
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(status || ':' || (replaced_by IS NULL), ',' ORDER BY finished_at) FROM dataprocess.runs")).Should().Be("succeeded:false,succeeded:true");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(DISTINCT run_id) FROM dataprocess.records")).Should().Be(1, "the forced run's rows replaced the first run's");
    }

    [Fact]
    public async Task A_reprocess_field_that_is_not_a_boolean_fails_the_execution_before_anything_is_recorded()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/4d4d/customers.json", File.ReadAllBytes(Repository.File("samples/customers.json")));

        var execution = await ExecuteAsync(database, key, input => input["reprocess"] = "yes");

        execution["status"]!.GetValue<string>().Should().Be("FAILED");
        execution["error"]!.GetValue<string>().Should().Be("DataProcess.InvalidInput");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.runs")).Should().Be(0);
        File.Exists(Path.Combine(_root, "input", key)).Should().BeTrue("nothing was quarantined");
    }

    [Fact]
    public async Task A_replayed_event_after_the_profile_changed_or_the_key_rotated_loads_again()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/5e5e/customers.json", File.ReadAllBytes(Repository.File("samples/customers.json")));
        await ExecuteAsync(database, key);
        var profile = File.ReadAllText(Repository.File("samples/customers.profile.json")).Replace("\"phone\": \"mask\"", "\"phone\": \"redact\"", StringComparison.Ordinal);

        var changedProfile = await ExecuteAsync(database, key, profile: profile);
        var replay = await ExecuteAsync(database, key, profile: profile);
        var rotatedKey = await ExecuteAsync(database, key, profile: profile, hmacKey: RandomNumberGenerator.GetBytes(32));

        changedProfile["output"]!["status"]!.GetValue<string>().Should().Be("succeeded");
        replay["output"]!["status"]!.GetValue<string>().Should().Be("skipped");
        replay["output"]!["matchedRunId"]!.GetValue<string>().Should().Be(changedProfile["output"]!["runId"]!.GetValue<string>());
        rotatedKey["output"]!["status"]!.GetValue<string>().Should().Be("succeeded");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records WHERE data ? 'phone'")).Should().Be(0, "the fixed profile's rows replaced the first ones");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(DISTINCT key_fingerprint) FROM dataprocess.runs WHERE status = 'succeeded'")).Should().Be(2);
    }

    [Theory]
    [InlineData("""{"result":[]}""", 0L)]
    [InlineData("""{"result":[{"id":"a"},{"id":"b","email":null},7]}""", 3L)]
    public async Task An_empty_file_or_one_whose_every_record_is_rejected_succeeds_with_zero_records(string content, long rejected)
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", $"incoming/2026/11/27/{Guid.NewGuid():N}/customers.json", System.Text.Encoding.UTF8.GetBytes(content));

        var execution = await ExecuteAsync(database, key);

        execution["status"]!.GetValue<string>().Should().Be("SUCCEEDED", execution.ToJsonString());
        execution["output"]!["records"]!.GetValue<long>().Should().Be(0);
        execution["output"]!["rejected"]!.GetValue<long>().Should().Be(rejected);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT status || ':' || records || ':' || rejected FROM dataprocess.runs")).Should().Be($"succeeded:0:{rejected}");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.rejects")).Should().Be(rejected);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
    }

    [Fact]
    public async Task A_reject_share_above_the_profile_limit_fails_the_execution_keeps_the_rejects_and_quarantines_the_source()
    {
        var database = await postgres.CreateDatabaseAsync();
        var key = Put("input", "incoming/2026/11/27/6f6f/customers.json", """{"result":[{"id":"a","email":"a@example.org"},{"id":"b"},{"id":"c"}]}"""u8.ToArray());
        var profile = """{"dataset":"customers","records":"$.result","id":"id","require":["email"],"anonymize":{"email":"hash"},"maxRejectRatio":0.5}""";

        var execution = await ExecuteAsync(database, key, profile: profile);

        execution["status"]!.GetValue<string>().Should().Be("FAILED");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT status || ' | ' || records || ' | ' || rejected || ' | ' || error FROM dataprocess.runs"))
            .Should().Be("failed | 0 | 2 | RejectRatioExceededException: customers.json: 2 of 3 records were rejected (66.7%), more than the profile's maxRejectRatio of 0.5; nothing was loaded, the rejects are kept in dataprocess.rejects");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.rejects")).Should().Be(2);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
        File.Exists(Path.Combine(_root, "input", "quarantine", "2026", "11", "27", "6f6f", "customers.json")).Should().BeTrue();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <param name="input">Changes the execution input (the event), as someone starting an execution by hand would.</param>
    /// <param name="profile">The profile's text (default: the sample's).</param>
    /// <param name="hmacKey">The HMAC key (default: the same key for every execution of the test).</param>
    private async Task<JsonNode> ExecuteAsync(string database, string key, Action<JsonObject>? input = null, string? profile = null, byte[]? hmacKey = null)
    {
        Put("staging", "profiles/customers.json", profile is null ? File.ReadAllBytes(Repository.File("samples/customers.profile.json")) : System.Text.Encoding.UTF8.GetBytes(profile));
        await SchemaMigrator.MigrateAsync(database);
        await using var sink = PostgresRecordSink.Create(database);
        var store = new DirectoryObjectStore(_root);
        var keys = new FixedKey(hmacKey ?? _key);
        using var stop = new CancellationTokenSource();
        await using var server = new LambdaInvokeServer(WorkflowFunctions.Create(store, sink, keys, quarantine: true).BySuffix(), port: 0, TextWriter.Null);
        var serving = server.RunAsync(stop.Token);
        try
        {
            var head = await store.HeadAsync(new ObjectRef("input", key));
            var eventFile = Path.Combine(_root, "event.json");
            var objectCreated = ObjectCreatedEvent("input", key, head.Size, head.ETag);
            input?.Invoke(objectCreated);
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
    internal static JsonObject ObjectCreatedEvent(string bucket, string key, long size, string etag) => new()
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

    internal static async Task<JsonNode> RunWorkflowAsync(Uri lambdaEndpoint, string eventFile)
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
