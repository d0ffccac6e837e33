using System.Security.Cryptography;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Transforms;
using DataProcess.DatabaseFunctions;
using DataProcess.Testing;

namespace DataProcess.Functions.Tests;

public sealed class ConsolidationFunctionTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Loads_the_merged_records_with_rejects_and_a_ledger_row()
    {
        var database = await postgres.CreateDatabaseAsync();
        await Postgres.SchemaMigrator.MigrateAsync(database);
        await using var scenario = new FunctionScenario(database);

        var summary = await scenario.RunAsync();

        summary.Should().BeEquivalentTo(new { Status = "succeeded", Dataset = "customers", Records = 2, Rejected = 2, Duplicates = 1 });
        var ada = await PostgresFixture.ScalarAsync<string>(database, "SELECT data::text FROM dataprocess.records WHERE dataset = 'customers' AND record_id = 'c1'");
        System.Text.Json.Nodes.JsonNode.Parse(ada)!["address"]!["city"]!.GetValue<string>().Should().Be("Marylebone", "the last duplicate of an id wins");
        ada.Should().Contain("\"email_domain\": \"example.org\"").And.Contain("\"country\": \"United Kingdom\"");
        (await PostgresFixture.ScalarAsync<string>(database, $"SELECT status || ':' || records || ':' || rejected || ':' || duplicates FROM dataprocess.runs WHERE run_id = '{summary.RunId}'"))
            .Should().Be("succeeded:2:2:1");
        (await PostgresFixture.ScalarAsync<string>(database, $"SELECT string_agg(record_index || '=' || reason, '|' ORDER BY record_index) FROM dataprocess.rejects WHERE run_id = '{summary.RunId}'"))
            .Should().Be("2=the required field 'email' is missing|3=the record is a number, not an object");
    }

    [Fact]
    public async Task No_value_of_an_anonymized_field_survives_anywhere_in_postgresql()
    {
        var database = await postgres.CreateDatabaseAsync();
        await Postgres.SchemaMigrator.MigrateAsync(database);
        await using var scenario = new FunctionScenario(database);
        await scenario.RunAsync();

        var everything = await PostgresFixture.ScalarAsync<string>(database, """
            SELECT coalesce((SELECT string_agg(r::text, E'\n') FROM dataprocess.records r), '') || E'\n' ||
                   coalesce((SELECT string_agg(x::text, E'\n') FROM dataprocess.rejects x), '') || E'\n' ||
                   coalesce((SELECT string_agg(u::text, E'\n') FROM dataprocess.runs u), '')
            """);

        everything.Should().Contain("Marylebone");
        StageFunctionTests.Leaked(everything).Should().BeEmpty();
    }

    [Fact]
    public async Task Pseudonyms_are_stable_for_one_key_and_differ_for_another()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var first = await EmailPseudonymAsync(key);
        var again = await EmailPseudonymAsync(key);
        var other = await EmailPseudonymAsync(RandomNumberGenerator.GetBytes(32));

        again.Should().Be(first);
        other.Should().NotBe(first);
        first.Should().Be(Pseudonym.Compute(new HMACSHA256(key), "ada.lovelace@example.org"));
    }

    [Fact]
    public async Task Replaying_the_same_source_changes_nothing_and_reports_skipped()
    {
        var database = await postgres.CreateDatabaseAsync();
        await Postgres.SchemaMigrator.MigrateAsync(database);
        await using var scenario = new FunctionScenario(database);
        await scenario.RunAsync();
        var before = await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(record_id || run_id::text || data::text, '|' ORDER BY record_id) FROM dataprocess.records");

        scenario.Request = scenario.Request with { RunId = Guid.NewGuid() };
        var replay = await scenario.RunAsync();

        replay.Status.Should().Be("skipped");
        replay.Records.Should().Be(0);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(record_id || run_id::text || data::text, '|' ORDER BY record_id) FROM dataprocess.records")).Should().Be(before);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(status, ',' ORDER BY started_at, status DESC) FROM dataprocess.runs")).Should().Be("succeeded,skipped");
    }

    [Fact]
    public async Task The_replay_check_lets_a_new_source_through_without_a_trace_and_ends_a_loaded_one_as_skipped()
    {
        var database = await postgres.CreateDatabaseAsync();
        await Postgres.SchemaMigrator.MigrateAsync(database);
        await using var scenario = new FunctionScenario(database);
        var check = new ReplayCheckFunction(scenario.Store, scenario.Sink, scenario.Keys);

        var before = await FunctionScenario.InvokeAsync(check.HandleAsync, scenario.Request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.ReplayCheck);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.runs")).Should().Be(0, "a check that lets the run go on records nothing");
        await scenario.RunAsync();
        scenario.Request = scenario.Request with { RunId = Guid.NewGuid() };
        var after = await FunctionScenario.InvokeAsync(check.HandleAsync, scenario.Request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.ReplayCheck);

        before.AlreadyLoaded.Should().BeFalse();
        before.Summary.Should().BeNull();
        after.AlreadyLoaded.Should().BeTrue();
        after.Summary!.Status.Should().Be("skipped");
        after.Summary.RunId.Should().Be(scenario.Request.RunId);
        (await PostgresFixture.ScalarAsync<string>(database, $"SELECT status FROM dataprocess.runs WHERE run_id = '{scenario.Request.RunId}'")).Should().Be("skipped");
    }

    [Fact]
    public async Task The_failure_path_records_the_run_as_failed_and_quarantines_the_source()
    {
        var database = await postgres.CreateDatabaseAsync();
        await Postgres.SchemaMigrator.MigrateAsync(database);
        await using var scenario = new FunctionScenario(database);
        var failure = RunFailure.Of(scenario.Request, new CaughtError
        {
            Error = "MalformedInputException",
            Cause = """{"errorType":"MalformedInputException","errorMessage":"customers.json: malformed JSON at line 3, column 9","stackTrace":["at X"]}""",
        });

        var recorded = await FunctionScenario.InvokeAsync(scenario.Failure.HandleAsync, failure, PayloadJsonContext.Default.RunFailure, PayloadJsonContext.Default.FailureRecorded);

        recorded.QuarantinedAs.Should().Be(new ObjectRef("input", "quarantine/customers.json"));
        File.Exists(Path.Combine(scenario.Root, "input", "quarantine", "customers.json")).Should().BeTrue();
        File.Exists(Path.Combine(scenario.Root, "input", "incoming", "customers.json")).Should().BeFalse();
        (await PostgresFixture.ScalarAsync<string>(database, $"SELECT status || '|' || dataset || '|' || error FROM dataprocess.runs WHERE run_id = '{failure.RunId}'"))
            .Should().Be("failed|customers|customers.json: malformed JSON at line 3, column 9");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
    }

    [Fact]
    public async Task An_unreachable_database_is_reported_as_unavailable_so_the_state_machine_retries()
    {
        // Nothing listens on port 1: the same refusal a paused Aurora cluster gives while it resumes.
        await using var scenario = new FunctionScenario("Host=127.0.0.1;Port=1;Timeout=3;Pooling=false");

        var act = () => scenario.RunAsync();

        var error = (await act.Should().ThrowAsync<DatabaseUnavailableException>()).Which;
        error.GetType().Name.Should().Be("DatabaseUnavailableException", "workflow.asl.json retries the error by this name");
        error.Message.Should().StartWith("the database is unavailable (it may be resuming from auto-pause)");
    }

    private async Task<string> EmailPseudonymAsync(byte[] key)
    {
        var database = await postgres.CreateDatabaseAsync();
        await Postgres.SchemaMigrator.MigrateAsync(database);
        await using var scenario = new FunctionScenario(database, key: key);
        await scenario.RunAsync();
        return await PostgresFixture.ScalarAsync<string>(database, "SELECT data->>'email' FROM dataprocess.records WHERE record_id = 'c1'");
    }
}
