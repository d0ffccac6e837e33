using System.Text;
using System.Text.Json.Nodes;
using DataProcess.DatabaseFunctions;
using DataProcess.Postgres;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Infrastructure.Tests;

/// <summary>The function <c>terraform apply</c> invokes to migrate the schema (aws_lambda_invocation.migrate).</summary>
public sealed class MigrateFunctionTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_migrate_invocation_migrates_the_schema_and_a_second_one_applies_nothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        var function = new MigrateFunction(() => Task.FromResult(dataSource), DatabaseRoles.DefaultConnectionLimit);

        var first = await InvokeAsync(function, """{"requestedBy":"terraform"}""");
        var second = await InvokeAsync(function, """{"requestedBy":"terraform"}""");

        first["schemaVersion"]!.GetValue<int>().Should().Be(SchemaMigrator.LatestVersion);
        first["applied"]!.AsArray().Select(v => v!.GetValue<int>()).Should().EndWith(SchemaMigrator.LatestVersion);
        second["applied"]!.AsArray().Should().BeEmpty("the schema is up to date");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.runs")).Should().Be(0);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'dataprocess\\_%' AND rolcanlogin"))
            .Should().Be("dataprocess_app,dataprocess_readonly");
        (await PostgresFixture.ScalarAsync<bool>(database, "SELECT has_table_privilege('dataprocess_app', 'dataprocess.records', 'INSERT') AND NOT has_table_privilege('dataprocess_readonly', 'dataprocess.records', 'INSERT')"))
            .Should().BeTrue();
    }

    [Fact]
    public async Task An_input_that_is_not_a_json_object_is_refused_before_the_database_is_touched()
    {
        var touched = false;
        var function = new MigrateFunction(() =>
        {
            touched = true;
            return Task.FromResult(NpgsqlDataSource.Create("Host=/nowhere"));
        }, DatabaseRoles.DefaultConnectionLimit);

        var refuse = () => InvokeAsync(function, "[1]");

        (await refuse.Should().ThrowAsync<ArgumentException>()).WithMessage("the migrate input must be a JSON object, not Array*");
        touched.Should().BeFalse();
    }

    private static async Task<JsonNode> InvokeAsync(MigrateFunction function, string input)
    {
        await using var output = await function.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(input)));
        return (await JsonNode.ParseAsync(output))!;
    }
}

/// <summary>
/// The migrate function against a PostgreSQL of its own where the master user logs in with its password (as on
/// Aurora): the managed secret rotates between invocations of one warm process, and the database is down when it is
/// invoked (auto-pause) and back a few seconds later.
/// </summary>
public sealed class MigrateFunctionResilienceTests(DedicatedCluster server) : IClassFixture<DedicatedCluster>
{
    private readonly string _master = "master_" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task After_the_master_password_rotated_the_next_invocation_of_the_same_process_migrates()
    {
        var (database, secrets) = await MasterAsync("pw-before");
        var function = new MigrateFunction(new FunctionDatabase(() => FunctionDatabase.CreateAsync(Environment(database), () => secrets, NoToken)).DataSource, DatabaseRoles.DefaultConnectionLimit);
        var first = await InvokeAsync(function);

        // The rotation: the database has the new password; the first read after it still answers the old one
        // (rotation and read raced), the next the new one.
        await DedicatedCluster.ExecuteAsync(server.Cluster.ConnectionString, $"ALTER ROLE {_master} PASSWORD 'pw-after'");
        // (Npgsql asked the provider more than once for one failed login here: two stale answers.)
        secrets.Answers.Enqueue(Secret("pw-before"));
        secrets.Answers.Enqueue(Secret("pw-before"));
        secrets.Answers.Enqueue(Secret("pw-after"));
        var second = await InvokeAsync(function);

        first["applied"]!.AsArray().Should().NotBeEmpty();
        second["applied"]!.AsArray().Should().BeEmpty("the schema was up to date; what matters is that it logged in");
        secrets.Answers.Should().BeEmpty("the password was read again after the login failed");
    }

    [Fact]
    public async Task An_invocation_while_the_database_is_down_waits_until_it_is_back_and_migrates()
    {
        var (database, secrets) = await MasterAsync("pw");
        var function = new MigrateFunction(new FunctionDatabase(() => FunctionDatabase.CreateAsync(Environment(database), () => secrets, NoToken)).DataSource, DatabaseRoles.DefaultConnectionLimit, TimeSpan.FromMinutes(2));

        await server.StopAsync();
        JsonNode result;
        try
        {
            var migrating = InvokeAsync(function);
            await Task.Delay(TimeSpan.FromSeconds(4)); // resuming
            migrating.IsCompleted.Should().BeFalse("the database is still down");
            await server.StartAsync();
            result = await migrating;
        }
        finally
        {
            await server.StartAsync();
        }

        result["applied"]!.AsArray().Select(v => v!.GetValue<int>()).Should().EndWith(SchemaMigrator.LatestVersion);
    }

    private static readonly FunctionDatabase.IamToken NoToken = (_, _, _, _) => throw new InvalidOperationException("the migrate function signs no token");

    private async Task<(string Database, QueuedSecrets Secrets)> MasterAsync(string password)
    {
        await server.RequirePasswordsAsync();
        await DedicatedCluster.ExecuteAsync(server.Cluster.ConnectionString, $"CREATE ROLE {_master} SUPERUSER LOGIN PASSWORD '{password}'");
        var database = await server.CreateDatabaseAsync();
        return (database, new QueuedSecrets(Secret(password)));
    }

    private Func<string, string?> Environment(string database)
    {
        var variables = new Dictionary<string, string>
        {
            ["DATAPROCESS_DB_HOST"] = server.Cluster.SocketDirectory,
            ["DATAPROCESS_DB_NAME"] = new NpgsqlConnectionStringBuilder(database).Database!,
            ["DATAPROCESS_DB_SECRET_ID"] = "arn:master",
        };
        return name => variables.GetValueOrDefault(name);
    }

    private string Secret(string password) => $$"""{"username":"{{_master}}","password":"{{password}}"}""";

    private static async Task<JsonNode> InvokeAsync(MigrateFunction function)
    {
        await using var output = await function.HandleAsync(new MemoryStream("""{"requestedBy":"terraform"}"""u8.ToArray()));
        return (await JsonNode.ParseAsync(output))!;
    }

    /// <summary>The secret store seam: answers queued values in order, then the last one again.</summary>
    private sealed class QueuedSecrets(string initial) : DataProcess.Core.Ports.ISecretReader
    {
        private string _last = initial;

        public Queue<string> Answers { get; } = new();

        public Task<string> ReadAsync(string secretId, CancellationToken cancellationToken = default)
        {
            lock (Answers)
            {
                if (Answers.TryDequeue(out var next))
                {
                    _last = next;
                }

                return Task.FromResult(_last);
            }
        }
    }
}
