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
}
