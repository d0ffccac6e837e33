using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Postgres.Tests;

/// <summary>
/// The least-privilege roles the migrate function makes, against the real PostgreSQL. Roles are cluster-wide, so each
/// test uses role names of its own (the same script as <see cref="DatabaseRoles.AppRole"/> and
/// <see cref="DatabaseRoles.ReadOnlyRole"/>) and drops them at the end.
/// </summary>
public sealed class DatabaseRolesTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _databases = [];

    private string App => $"app_{_suffix}";

    private string ReadOnly => $"ro_{_suffix}";

    private string Iam => $"iam_{_suffix}";

    [Fact]
    public async Task The_app_role_loads_a_run_through_its_temporary_staging_table()
    {
        await using var database = await MigratedWithRolesAsync();
        await using var sink = PostgresRecordSink.Create(As(database, App));

        var result = await SinkLoads.LoadAsync(sink, TestDatabase.Run("bucket/a.json"), ("r1", """{"id":"r1"}"""), LoadRow.Reject("r2", "no email"), ("r3", """{"id":"r3"}"""));

        result!.Records.Should().Be(2);
        (await database.ScalarAsync<long>("SELECT count(*) FROM dataprocess.records")).Should().Be(2);
        (await database.ScalarAsync<long>("SELECT count(*) FROM dataprocess.rejects")).Should().Be(1);
    }

    [Theory]
    [InlineData("CREATE TABLE dataprocess.extra (id int)", "42501")]
    [InlineData("CREATE TABLE public.extra (id int)", "42501")]
    [InlineData("DROP TABLE dataprocess.records", "42501")]
    [InlineData("ALTER TABLE dataprocess.runs ADD COLUMN extra int", "42501")]
    [InlineData("TRUNCATE dataprocess.records", "42501")]
    [InlineData("INSERT INTO dataprocess.schema_version (version, description) VALUES (99, 'x')", "42501")]
    [InlineData("CREATE SCHEMA other", "42501")]
    public async Task The_app_role_cannot_change_the_schema(string sql, string sqlState)
    {
        await using var database = await MigratedWithRolesAsync();

        var run = () => ExecuteAsync(As(database, App), sql);

        (await run.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be(sqlState);
    }

    [Fact]
    public async Task The_readonly_role_reads_runs_but_cannot_write()
    {
        await using var database = await MigratedWithRolesAsync();
        await database.LoadAsync(TestDatabase.Run("bucket/a.json"), ("r1", """{"id":"r1"}"""));
        await using var readOnly = NpgsqlDataSource.Create(As(database, ReadOnly));

        var latest = await RunLedger.LatestAsync(readOnly, "bucket/a.json");
        var write = () => ExecuteAsync(As(database, ReadOnly), "UPDATE dataprocess.runs SET error = 'x'");
        var temp = () => ExecuteAsync(As(database, ReadOnly), "CREATE TEMP TABLE t (id int)");

        latest!.Status.Should().Be("succeeded");
        (await write.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be("42501");
        (await temp.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be("42501", "TEMP is the app role's alone");
    }

    [Fact]
    public async Task Applying_again_and_on_another_database_of_the_cluster_succeeds_and_updates_the_connection_limit()
    {
        await using var first = await MigratedWithRolesAsync();
        await using var second = await TestDatabase.CreateAsync(postgres);
        _databases.Add(second.Name);

        await DatabaseRoles.ApplyAsync(first.DataSource, App, ReadOnly, 20, Iam);
        await DatabaseRoles.ApplyAsync(second.DataSource, App, ReadOnly, 7, Iam);

        (await first.ScalarAsync<int>($"SELECT rolconnlimit FROM pg_roles WHERE rolname = '{App}'")).Should().Be(7);
        (await first.ScalarAsync<int>($"SELECT rolconnlimit FROM pg_roles WHERE rolname = '{ReadOnly}'")).Should().Be(-1);
        await using var onSecond = PostgresRecordSink.Create(As(second, App));
        (await SinkLoads.LoadAsync(onSecond, TestDatabase.Run("bucket/b.json"), ("r1", """{"id":"r1"}""")))!.Records.Should().Be(1);
    }

    [Fact]
    public async Task Both_roles_join_the_iam_role_only_where_it_exists()
    {
        await using var database = await MigratedWithRolesAsync();
        (await database.ScalarAsync<long>($"SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname IN ('{App}', '{ReadOnly}')")).Should().Be(0);

        await database.ScalarAsync<int>($"CREATE ROLE {Iam} NOLOGIN; SELECT 1");
        await DatabaseRoles.ApplyAsync(database.DataSource, App, ReadOnly, 20, Iam);

        (await database.ScalarAsync<bool>($"SELECT pg_has_role('{App}', '{Iam}', 'MEMBER') AND pg_has_role('{ReadOnly}', '{Iam}', 'MEMBER')")).Should().BeTrue();
    }

    [Fact]
    public async Task Concurrent_applications_on_databases_of_one_cluster_all_succeed()
    {
        var databases = new List<TestDatabase>();
        for (var i = 0; i < 4; i++)
        {
            databases.Add(await TestDatabase.CreateAsync(postgres));
            _databases.Add(databases[^1].Name);
        }

        await Task.WhenAll(databases.Select(d => DatabaseRoles.ApplyAsync(d.DataSource, App, ReadOnly, 20, Iam)));

        (await databases[0].ScalarAsync<long>($"SELECT count(*) FROM pg_roles WHERE rolname IN ('{App}', '{ReadOnly}')")).Should().Be(2);
        foreach (var database in databases)
        {
            await database.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(null, 20)]
    [InlineData("5", 5)]
    [InlineData("1000", 1000)]
    public void The_connection_limit_comes_from_the_environment(string? value, int expected) =>
        DatabaseRoles.ConnectionLimitFromEnvironment(name => name == "DATAPROCESS_DB_CONNECTION_LIMIT" ? value : null).Should().Be(expected);

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("-3")]
    [InlineData("twenty")]
    public void A_connection_limit_out_of_range_is_an_error_naming_the_variable(string value)
    {
        var read = () => DatabaseRoles.ConnectionLimitFromEnvironment(_ => value);

        read.Should().Throw<InvalidOperationException>().WithMessage("DATAPROCESS_DB_CONNECTION_LIMIT must be a whole number between 1 and 1000");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var name in _databases)
        {
            await postgres.DropDatabaseAsync(name);
        }

        await using var admin = new NpgsqlConnection(postgres.AdminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP ROLE IF EXISTS {App}; DROP ROLE IF EXISTS {ReadOnly}; DROP ROLE IF EXISTS {Iam}", admin);
        await drop.ExecuteNonQueryAsync();
    }

    private async Task<TestDatabase> MigratedWithRolesAsync()
    {
        var database = await TestDatabase.CreateAsync(postgres);
        _databases.Add(database.Name);
        await DatabaseRoles.ApplyAsync(database.DataSource, App, ReadOnly, 20, Iam);
        return database;
    }

    private static string As(TestDatabase database, string role) =>
        new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role, Pooling = false }.ConnectionString;

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
