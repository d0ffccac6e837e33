using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DataProcess.Cli;
using DataProcess.Core.Ports;
using DataProcess.DatabaseFunctions;
using DataProcess.Local;
using DataProcess.Postgres;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Infrastructure.Tests;

/// <summary>
/// workflow.asl.json on the local Step Functions engine while the database is down, the functions composed as in
/// Lambda (<c>FunctionDatabase</c>: the app role, one data source per process) behind the Lambda Invoke API: a warm
/// container whose first connection failed must connect on a later invocation.
/// </summary>
public sealed class DatabaseOutageWorkflowTests(DedicatedCluster server) : IClassFixture<DedicatedCluster>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dp-outage-").FullName;

    [Fact]
    public async Task A_run_started_while_the_database_is_down_succeeds_once_it_is_back()
    {
        var database = await server.CreateDatabaseAsync();
        await using (var admin = NpgsqlDataSource.Create(database))
        {
            await SchemaMigrator.MigrateAsync(admin);
            await DatabaseRoles.ApplyAsync(admin, DatabaseRoles.DefaultConnectionLimit);
        }

        var key = "incoming/customers/2026/12/03/0a0a/customers.json";
        Put("input", key, File.ReadAllBytes(Repository.File("samples/customers.json")));
        Put("staging", "profiles/customers.json", File.ReadAllBytes(Repository.File("profiles/customers.json")));
        var store = new DirectoryObjectStore(_root);
        var head = await store.HeadAsync(new ObjectRef("input", key));
        var eventFile = Path.Combine(_root, "event.json");
        await File.WriteAllTextAsync(eventFile, WorkflowExecutionTests.ObjectCreatedEvent("input", key, head.Size, head.ETag).ToJsonString());

        // As in Lambda: the functions' one data source, made on first use; the socket directory is the endpoint.
        var environment = new Dictionary<string, string>
        {
            ["DATAPROCESS_DB_HOST"] = server.Cluster.SocketDirectory,
            ["DATAPROCESS_DB_NAME"] = new NpgsqlConnectionStringBuilder(database).Database!,
            ["DATAPROCESS_DB_USER"] = DatabaseRoles.AppRole,
            ["AWS_REGION"] = "eu-west-1",
        };
        var functionDatabase = new FunctionDatabase(() => FunctionDatabase.CreateAsync(
            name => environment.GetValueOrDefault(name), () => throw new InvalidOperationException("no secret"), (_, _, _, _) => "unused: the local socket trusts"));
        var keys = new FixedKey(RandomNumberGenerator.GetBytes(32));
        using var stop = new CancellationTokenSource();
        await using var lambda = new LambdaInvokeServer(WorkflowFunctions.Create(store, functionDatabase.RecordSink(), keys, quarantine: true).BySuffix(), port: 0, TextWriter.Null);
        var serving = lambda.RunAsync(stop.Token);

        await server.StopAsync();
        JsonNode execution;
        try
        {
            var running = WorkflowExecutionTests.RunWorkflowAsync(lambda.Url, eventFile);
            await Task.Delay(TimeSpan.FromSeconds(20)); // Aurora resuming from auto-pause: the first attempts fail
            await server.StartAsync();
            execution = await running;
        }
        finally
        {
            await server.StartAsync();
            await stop.CancelAsync();
            await serving;
        }

        execution["status"]!.GetValue<string>().Should().Be("SUCCEEDED", execution.ToJsonString());
        execution["output"]!["status"]!.GetValue<string>().Should().Be("succeeded");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(execution["output"]!["records"]!.GetValue<long>());
        File.Exists(Path.Combine(_root, "input", key)).Should().BeTrue("a good file is not quarantined");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Put(string bucket, string key, byte[] content)
    {
        var path = Path.Combine(_root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
    }

    private sealed class FixedKey(byte[] key) : IHmacKeySource
    {
        public Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default) => Task.FromResult(new HmacKey(key));
    }
}
