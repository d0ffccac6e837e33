using System.Text;
using System.Text.Json.Nodes;
using DataProcess.Aws.HttpApi;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.DatabaseFunctions;
using DataProcess.Postgres;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Functions.Tests;

public sealed class RunStatusFunctionTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Key = "incoming/2026/11/27/3f2a/customers.json";

    [Fact]
    public async Task Reports_pending_until_the_run_is_recorded()
    {
        var (function, _) = await CreateAsync();

        var response = await InvokeAsync(function, Get(Key));

        response.StatusCode.Should().Be(200);
        Body(response).ToJsonString().Should().Be($$"""{"key":"{{Key}}","status":"pending"}""");
    }

    [Fact]
    public async Task Reports_the_counts_of_a_succeeded_run()
    {
        var (function, sink) = await CreateAsync();
        var run = SinkLoads.Run("customers", $"input/{Key}");
        await SinkLoads.LoadAsync(sink, run, ("c1", """{"id":"c1"}"""), ("c1", """{"id":"c1","v":2}"""), LoadRow.Reject(null, "the id 'id' is missing"));

        var body = Body(await InvokeAsync(function, Get(Key)));

        body["runId"]!.GetValue<string>().Should().Be(run.RunId.ToString("D"));
        body["status"]!.GetValue<string>().Should().Be("succeeded");
        body["dataset"]!.GetValue<string>().Should().Be("customers");
        (body["records"]!.GetValue<long>(), body["rejected"]!.GetValue<long>(), body["duplicates"]!.GetValue<long>()).Should().Be((1, 1, 1));
        body.AsObject().ContainsKey("error").Should().BeFalse();
    }

    [Fact]
    public async Task Reports_a_failed_run_with_its_error()
    {
        var (function, sink) = await CreateAsync();
        await sink.RecordFailureAsync(new RunDescriptor(Guid.NewGuid(), "customers", $"input/{Key}", "etag-1", DateTimeOffset.UtcNow), "customers.json: malformed JSON at line 2, column 1");

        var body = Body(await InvokeAsync(function, Get(Key)));

        body["status"]!.GetValue<string>().Should().Be("failed");
        body["error"]!.GetValue<string>().Should().Be("customers.json: malformed JSON at line 2, column 1");
    }

    [Theory]
    [InlineData(null, "the query parameter key is required")]
    [InlineData("", "the query parameter key is required")]
    [InlineData("quarantine/2026/x.json", "key must be an upload key under incoming/")]
    [InlineData("../incoming/x.json", "key must be an upload key under incoming/")]
    public async Task Refuses_a_missing_or_foreign_key_naming_the_field(string? key, string detail)
    {
        var (function, _) = await CreateAsync();

        var response = await InvokeAsync(function, Get(key));

        response.StatusCode.Should().Be(400);
        response.Headers["Content-Type"].Should().Be("application/problem+json");
        Body(response)["field"]!.GetValue<string>().Should().Be("key");
        Body(response)["detail"]!.GetValue<string>().Should().StartWith(detail);
    }

    [Fact]
    public async Task Answers_other_methods_and_routes_with_405_and_404()
    {
        var (function, _) = await CreateAsync();

        (await InvokeAsync(function, HttpApiEvents.Create("POST", "/runs", "{}"))).StatusCode.Should().Be(405);
        (await InvokeAsync(function, HttpApiEvents.Create("GET", "/uploads", null))).StatusCode.Should().Be(404);
    }

    private async Task<(RunStatusFunction Function, PostgresRecordSink Sink)> CreateAsync()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(database);
        var dataSource = NpgsqlDataSource.Create(database);
        var api = new RunStatusApi("input", KeyLayout.IncomingPrefix, (source, ct) => RunLedger.LatestAsync(dataSource, source, ct));
        return (new RunStatusFunction(api), new PostgresRecordSink(dataSource));
    }

    private static string Get(string? key)
    {
        var e = JsonNode.Parse(HttpApiEvents.Create("GET", "/runs", null))!.AsObject();
        if (key is not null)
        {
            e["rawQueryString"] = "key=" + Uri.EscapeDataString(key);
            e["queryStringParameters"] = new JsonObject { ["key"] = key };
        }

        return e.ToJsonString();
    }

    private static async Task<HttpApiResponse> InvokeAsync(RunStatusFunction function, string eventJson)
    {
        await using var input = new MemoryStream(Encoding.UTF8.GetBytes(eventJson));
        await using var output = await function.HandleAsync(input);
        return await HttpApiResponse.ReadAsync(output);
    }

    private static JsonNode Body(HttpApiResponse response) => JsonNode.Parse(response.Body)!;
}
