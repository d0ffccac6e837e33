using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.DatabaseFunctions;
using DataProcess.Postgres;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Functions.Tests;

/// <summary>
/// How a deployed function logs in to the database (FunctionDatabase, the one place that builds the connection),
/// against a PostgreSQL of its own where every role but the superuser must present its password, as on Aurora.
/// </summary>
public sealed class FunctionDatabaseTests(DedicatedCluster server) : IClassFixture<DedicatedCluster>
{
    private static readonly (string, string)[] Endpoint = [("DATAPROCESS_DB_HOST", "db.cluster.local"), ("DATAPROCESS_DB_NAME", "dataprocess"), ("DATAPROCESS_DB_SSL_ROOT_CERT", "rds-ca-bundle.pem")];

    [Fact]
    public async Task The_migrate_function_logs_in_with_the_master_secret_and_verifies_the_server_against_the_shipped_bundle()
    {
        var secrets = new RecordingSecrets("""{"username":"admin","password":"pw-from-the-secret"}""");

        await using var dataSource = await FunctionDatabase.CreateAsync(Environment([.. Endpoint, ("DATAPROCESS_DB_SECRET_ID", "arn:master")]), () => secrets, NoToken);

        var connection = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        secrets.Read.Should().Equal("arn:master");
        connection.Host.Should().Be("db.cluster.local");
        connection.Username.Should().Be("admin");
        connection.SslMode.Should().Be(SslMode.VerifyFull);
        connection.RootCertificate.Should().Be(Path.Combine(AppContext.BaseDirectory, "rds-ca-bundle.pem"), "a relative path names a file the package ships");
        File.Exists(connection.RootCertificate).Should().BeTrue();
    }

    [Fact]
    public async Task An_app_function_logs_in_as_its_role_with_an_iam_token_signed_for_each_new_connection()
    {
        var database = await MigratedWithRolesAsync();
        await SetPasswordAsync(DatabaseRoles.AppRole, "token-1");
        var tokens = new CountingTokens();

        await using var dataSource = await FunctionDatabase.CreateAsync(Environment([.. Local(database, DatabaseRoles.AppRole), ("AWS_REGION", "eu-west-1")]), NoSecrets, tokens.Sign);
        var first = await CurrentUserAsync(dataSource);
        await SetPasswordAsync(DatabaseRoles.AppRole, "token-2");
        var second = await CurrentUserAsync(dataSource);

        first.Should().Be(DatabaseRoles.AppRole);
        second.Should().Be(DatabaseRoles.AppRole, "the second connection presented a newly signed token");
        tokens.Signed.Should().Equal(
            (server.Cluster.SocketDirectory, 5432, DatabaseRoles.AppRole, "eu-west-1"),
            (server.Cluster.SocketDirectory, 5432, DatabaseRoles.AppRole, "eu-west-1"));
        new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Password.Should().BeNull("no password is configured: the provider signs one");
    }

    [Fact]
    public async Task Over_the_app_roles_connection_limit_a_function_reports_the_database_unavailable()
    {
        var database = await MigratedWithRolesAsync(appConnectionLimit: 1);
        await SetPasswordAsync(DatabaseRoles.AppRole, "token-1");
        await using var holder = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { Username = DatabaseRoles.AppRole, Password = "token-1", Pooling = false }.ConnectionString);
        await holder.OpenAsync();
        var functionDatabase = new FunctionDatabase(() => FunctionDatabase.CreateAsync(Environment([.. Local(database, DatabaseRoles.AppRole), ("AWS_REGION", "eu-west-1")]), NoSecrets, (_, _, _, _) => "token-1"));
        await using var scenario = new FunctionScenario(database);
        var replayCheck = new ReplayCheckFunction(scenario.Store, functionDatabase.RecordSink(), scenario.Keys);

        var invoke = () => FunctionScenario.InvokeAsync(replayCheck.HandleAsync, scenario.Request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.ReplayCheck);

        (await invoke.Should().ThrowAsync<DatabaseUnavailableException>()).WithInnerException<PostgresException>().Which.SqlState.Should().Be("53300");
    }

    [Fact]
    public async Task After_an_invocation_no_connection_of_the_function_stays_open_so_the_database_can_pause()
    {
        var database = await MigratedWithRolesAsync();
        await SetPasswordAsync(DatabaseRoles.AppRole, "token-1");
        var functionDatabase = new FunctionDatabase(() => FunctionDatabase.CreateAsync(Environment([.. Local(database, DatabaseRoles.AppRole), ("AWS_REGION", "eu-west-1")]), NoSecrets, (_, _, _, _) => "token-1"));
        await using var scenario = new FunctionScenario(database);
        var sink = functionDatabase.RecordSink();
        var replayCheck = new ReplayCheckFunction(scenario.Store, sink, scenario.Keys);

        var check = await FunctionScenario.InvokeAsync(replayCheck.HandleAsync, scenario.Request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.ReplayCheck);
        await sink.RecordFailureAsync(SinkLoads.Run("customers", "input/other.json"), "a failure");

        check.Should().NotBeNull();
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.runs WHERE status = 'failed'")).Should().Be(1, "the function reached the database");
        (await PostgresFixture.ScalarAsync<long>(database, $"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = '{DatabaseRoles.AppRole}'"))
            .Should().Be(0, "an idle pooled connection would keep Aurora from auto-pausing");
    }

    [Fact]
    public async Task A_function_on_a_schema_older_than_its_build_says_to_run_the_migrate_function()
    {
        var database = await server.CreateDatabaseAsync();
        var functionDatabase = new FunctionDatabase(() => Task.FromResult(NpgsqlDataSource.Create(database)));

        var skip = () => functionDatabase.RecordSink().SkipIfLoadedAsync(SinkLoads.Run("customers", "input/a.json"));

        await skip.Should().ThrowAsync<InvalidOperationException>().WithMessage($"The database schema is at version 0, older than this build needs ({SchemaMigrator.LatestVersion}); the migrate function migrates it on deploy*");
    }

    [Fact]
    public async Task A_role_of_its_own_without_the_region_to_sign_for_is_an_error_naming_the_variable()
    {
        var create = () => FunctionDatabase.CreateAsync(Environment([.. Endpoint, ("DATAPROCESS_DB_USER", "dataprocess_app")]), NoSecrets, NoToken);

        await create.Should().ThrowAsync<InvalidOperationException>().WithMessage("the environment variable AWS_REGION is not set*");
    }

    [Fact]
    public async Task A_ca_bundle_the_package_does_not_ship_is_an_error_naming_the_variable()
    {
        var create = () => FunctionDatabase.CreateAsync(Environment([("DATAPROCESS_DB_HOST", "h"), ("DATAPROCESS_DB_NAME", "d"), ("DATAPROCESS_DB_SSL_ROOT_CERT", "missing.pem"), ("DATAPROCESS_DB_USER", "u"), ("AWS_REGION", "eu-west-1")]), NoSecrets, NoToken);

        await create.Should().ThrowAsync<InvalidOperationException>().WithMessage("DATAPROCESS_DB_SSL_ROOT_CERT: the CA bundle */missing.pem does not exist*");
    }

    private static readonly Func<ISecretReader> NoSecrets = () => throw new InvalidOperationException("no secret may be read");

    private static readonly FunctionDatabase.IamToken NoToken = (_, _, _, _) => throw new InvalidOperationException("no token may be signed");

    private async Task<string> MigratedWithRolesAsync(int appConnectionLimit = DatabaseRoles.DefaultConnectionLimit)
    {
        await server.RequirePasswordsAsync();
        var database = await server.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        await SchemaMigrator.MigrateAsync(dataSource);
        await DatabaseRoles.ApplyAsync(dataSource, appConnectionLimit);
        return database;
    }

    /// <summary>The endpoint of <paramref name="database"/> on the dedicated cluster's socket, logging in as <paramref name="role"/>.</summary>
    private (string, string)[] Local(string database, string role) =>
        [("DATAPROCESS_DB_HOST", server.Cluster.SocketDirectory), ("DATAPROCESS_DB_NAME", new NpgsqlConnectionStringBuilder(database).Database!), ("DATAPROCESS_DB_USER", role)];

    private Task SetPasswordAsync(string role, string password) =>
        DedicatedCluster.ExecuteAsync(server.Cluster.ConnectionString, $"ALTER ROLE {role} PASSWORD '{password}'");

    private static async Task<string> CurrentUserAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT current_user");
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static Func<string, string?> Environment((string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private sealed class RecordingSecrets(string value) : ISecretReader
    {
        public List<string> Read { get; } = [];

        public Task<string> ReadAsync(string secretId, CancellationToken cancellationToken = default)
        {
            Read.Add(secretId);
            return Task.FromResult(value);
        }
    }

    /// <summary>Signs "token-1", "token-2", …: the role's password is set to the token the next connection must present.</summary>
    private sealed class CountingTokens
    {
        public List<(string Host, int Port, string User, string Region)> Signed { get; } = [];

        public string Sign(string host, int port, string user, string region)
        {
            lock (Signed)
            {
                Signed.Add((host, port, user, region));
                return $"token-{Signed.Count}";
            }
        }
    }
}
