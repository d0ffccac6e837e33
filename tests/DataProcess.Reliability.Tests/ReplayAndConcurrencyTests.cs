using DataProcess.Cli.Samples;
using DataProcess.Testing;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 4: S3 and EventBridge deliver at least once, so the same file arrives twice, sometimes at the
/// same moment. It loads once; a replay is <c>skipped</c> and changes nothing; different files both load.
/// </summary>
public sealed class ReplayAndConcurrencyTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string Profile = """{"dataset":"customers","records":"$.result","id":"id","require":["email"],"anonymize":{"email":"hash","name":"hash","phone":"mask"}}""";
    private readonly CliHarness _cli = new();

    [Fact]
    public async Task The_same_file_twice_is_skipped_and_leaves_the_tables_identical()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = await GenerateAsync("customers.json", records: 500, seed: 1);
        var profile = _cli.Profile(Profile);

        var first = await _cli.RunAsync(database, "run", input, "--profile", profile, "--json");
        var recordsBefore = await Ledger.DumpRecordsAsync(database);
        var rejectsBefore = await Ledger.DumpRejectsAsync(database);
        var second = await _cli.RunAsync(database, "run", input, "--profile", profile, "--json");

        first.ExitCode.Should().Be(0, first.Error);
        second.ExitCode.Should().Be(0, second.Error);
        second.Output.Should().Contain("\"status\":\"skipped\"").And.Contain("\"records\":0");
        (await Ledger.DumpRecordsAsync(database)).Should().Be(recordsBefore).And.NotBeEmpty();
        (await Ledger.DumpRejectsAsync(database)).Should().Be(rejectsBefore);
        (await Ledger.RunsAsync(database)).Select(r => r.Status).Should().Equal("succeeded", "skipped");
    }

    [Fact]
    public async Task The_same_file_with_changed_content_loads_again()
    {
        var database = await postgres.CreateDatabaseAsync();
        var profile = _cli.Profile(Profile);
        var input = await GenerateAsync("customers.json", records: 50, seed: 1);
        (await _cli.RunAsync(database, "run", input, "--profile", profile)).ExitCode.Should().Be(0);

        await GenerateAsync("customers.json", records: 50, seed: 2);
        var again = await _cli.RunAsync(database, "run", input, "--profile", profile);

        again.ExitCode.Should().Be(0, again.Error);
        (await Ledger.RunsAsync(database)).Select(r => r.Status).Should().Equal("succeeded", "succeeded");
    }

    [Fact]
    public async Task The_same_file_started_twice_at_the_same_moment_loads_once_and_the_other_run_is_skipped()
    {
        var input = await GenerateAsync("customers.json", records: 3000, seed: 3);
        var profile = _cli.Profile(Profile);

        // A few rounds: the race must never go the wrong way, not just usually go the right way.
        for (var round = 0; round < 3; round++)
        {
            var database = await postgres.CreateDatabaseAsync();
            var runs = await Task.WhenAll(
                Task.Run(() => _cli.RunAsync(database, "run", input, "--profile", profile, "--json")),
                Task.Run(() => _cli.RunAsync(database, "run", input, "--profile", profile, "--json")));

            runs.Should().AllSatisfy(run =>
            {
                run.ExitCode.Should().Be(0, run.Error);
                run.Error.Should().BeEmpty();
            });
            runs.Select(run => run.Output.Contains("\"status\":\"skipped\"", StringComparison.Ordinal)).Should().ContainSingle(skipped => skipped);
            var ledger = await Ledger.RunsAsync(database);
            ledger.Select(r => r.Status).Should().BeEquivalentTo(["succeeded", "skipped"]);
            (await Ledger.RecordsAsync(database)).Should().Be(ledger.Single(r => r.Status == "succeeded").Records);
            await postgres.DropDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(database).Database!);
        }
    }

    [Fact]
    public async Task Two_different_files_started_at_the_same_moment_both_load()
    {
        var database = await postgres.CreateDatabaseAsync();
        var profile = _cli.Profile(Profile);
        var first = await GenerateAsync("first.json", records: 2000, seed: 4);
        var second = await GenerateAsync("second.json", records: 2000, seed: 5, idOffset: true);

        var runs = await Task.WhenAll(
            Task.Run(() => _cli.RunAsync(database, "run", first, "--profile", profile)),
            Task.Run(() => _cli.RunAsync(database, "run", second, "--profile", profile)));

        runs.Should().AllSatisfy(run => run.ExitCode.Should().Be(0, run.Error));
        var ledger = await Ledger.RunsAsync(database);
        ledger.Should().HaveCount(2).And.OnlyContain(r => r.Status == "succeeded");
        ledger.Select(r => r.Source).Should().BeEquivalentTo([$"file:{first}", $"file:{second}"], "a local input is named by its full path");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(DISTINCT run_id) FROM dataprocess.records")).Should().BeInRange(1, 2);
        (await Ledger.RecordsAsync(database)).Should().BeGreaterThan(ledger.Max(r => r.Records!.Value), "both files' records are there");
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>A generated customer file. <paramref name="idOffset"/> renames the ids so two files do not overlap.</summary>
    private async Task<string> GenerateAsync(string name, int records, int seed, bool idOffset = false)
    {
        var path = Path.Combine(_cli.Directory, name);
        await using (var stream = File.Create(path))
        {
            await CustomerGenerator.WriteAsync(stream, new GeneratorOptions { Seed = seed, Records = records }, CancellationToken.None);
        }

        if (idOffset)
        {
            await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path)).Replace("\"id\":\"cus_", "\"id\":\"alt_", StringComparison.Ordinal));
        }

        return path;
    }
}
