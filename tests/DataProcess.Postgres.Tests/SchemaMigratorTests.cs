using DataProcess.Testing;

namespace DataProcess.Postgres.Tests;

public sealed class SchemaMigratorTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Migrating_a_fresh_database_creates_the_schema_at_the_latest_version()
    {
        await using var db = await TestDatabase.CreateAsync(fixture, migrate: false);

        var applied = await SchemaMigrator.MigrateAsync(db.DataSource);

        applied.Should().Equal(Enumerable.Range(1, SchemaMigrator.LatestVersion));
        (await db.ScalarAsync<int>("SELECT max(version) FROM dataprocess.schema_version")).Should().Be(SchemaMigrator.LatestVersion);
        (await db.ScalarAsync<long>(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'dataprocess' AND table_name IN ('records', 'runs', 'rejects')"))
            .Should().Be(3);
    }

    [Fact]
    public async Task Migrating_twice_and_concurrently_applies_each_migration_once()
    {
        await using var db = await TestDatabase.CreateAsync(fixture, migrate: false);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => SchemaMigrator.MigrateAsync(db.ConnectionString))));
        var again = await SchemaMigrator.MigrateAsync(db.DataSource);

        concurrent.Count(applied => applied.Count > 0).Should().Be(1, "one process migrates, the others wait and find nothing to do");
        again.Should().BeEmpty();
        (await db.ScalarAsync<long>("SELECT count(*) FROM dataprocess.schema_version")).Should().Be(SchemaMigrator.LatestVersion);
    }

    [Fact]
    public async Task Upgrading_to_run_identities_keeps_one_current_load_per_source_and_lets_old_runs_match_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(fixture, migrate: false);
        await SchemaMigrator.MigrateAsync(db.DataSource, targetVersion: 1);
        var (old, latest, other) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await db.ScalarAsync<int>(
            $"""
            INSERT INTO dataprocess.runs (run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at)
            VALUES ('{old}', 'customers', 'incoming/a.json', 'etag-1', 'succeeded', 1, 0, 0, now() - interval '2 days', now() - interval '2 days'),
                   ('{latest}', 'customers', 'incoming/a.json', 'etag-2', 'succeeded', 1, 0, 0, now() - interval '1 day', now() - interval '1 day'),
                   ('{other}', 'customers', 'incoming/b.json', 'etag-1', 'succeeded', 1, 0, 0, now(), now());
            SELECT 1
            """);

        (await SchemaMigrator.MigrateAsync(db.DataSource)).Should().Equal(Enumerable.Range(2, SchemaMigrator.LatestVersion - 1));

        var runs = (await db.RunsAsync()).ToDictionary(r => r.RunId);
        runs[old].ReplacedBy.Should().Be(latest);
        runs[latest].ReplacedBy.Should().BeNull();
        runs[other].ReplacedBy.Should().BeNull();
        (await db.Sink.SkipIfLoadedAsync(TestDatabase.Run("incoming/a.json", "etag-2"))).Should().BeNull("a run from before knows neither its profile nor its key");
        await FluentActions.Awaiting(() => db.ScalarAsync<int>(
                $"UPDATE dataprocess.runs SET replaced_by = NULL WHERE run_id = '{old}'; SELECT 1"))
            .Should().ThrowAsync<Npgsql.PostgresException>().Where(e => e.SqlState == "23505", "one current load per source and dataset");
    }
}
