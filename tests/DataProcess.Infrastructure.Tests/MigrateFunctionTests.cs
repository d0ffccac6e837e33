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
