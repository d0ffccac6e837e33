using Npgsql;

namespace DataProcess.Postgres;

/// <summary>
/// Creates and upgrades the <c>dataprocess</c> schema. Migrations are numbered, applied in order, recorded in
/// <c>dataprocess.schema_version</c>, and never edited once released: a change is a new migration.
/// Safe to run from many processes at once: the whole migration runs in one transaction under a
/// transaction-scoped advisory lock, so concurrent callers wait and then find nothing left to do.
/// </summary>
public static class SchemaMigrator
{
    /// <summary>The advisory lock key text; it cannot collide with a dataset's key ("dataprocess:" + dataset).</summary>
    internal const string LockKey = "dataprocess-schema-migration";

    private static readonly (int Version, string Description, string Sql)[] Migrations =
    [
        (1, "records, runs, rejects",
            """
            CREATE TABLE dataprocess.records (
                dataset   text        NOT NULL,
                record_id text        NOT NULL,
                data      jsonb       NOT NULL,
                source    text        NOT NULL,
                run_id    uuid        NOT NULL,
                loaded_at timestamptz NOT NULL,
                PRIMARY KEY (dataset, record_id)
            );

            CREATE TABLE dataprocess.runs (
                run_id      uuid        PRIMARY KEY,
                dataset     text        NOT NULL,
                source      text        NOT NULL,
                source_etag text        NOT NULL,
                status      text        NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
                records     bigint,
                rejected    bigint,
                duplicates  bigint,
                started_at  timestamptz NOT NULL,
                finished_at timestamptz,
                error       text
            );

            -- The skip lookup, and the guarantee behind it: one version of one source loads at most once.
            CREATE UNIQUE INDEX runs_succeeded_source_version
                ON dataprocess.runs (dataset, source, source_etag)
                WHERE status = 'succeeded';

            CREATE TABLE dataprocess.rejects (
                run_id       uuid   NOT NULL REFERENCES dataprocess.runs (run_id) ON DELETE CASCADE,
                record_index bigint NOT NULL,
                record_id    text,
                reason       text   NOT NULL,
                PRIMARY KEY (run_id, record_index)
            );
            """),
        (2, "run identity: profile hash and key fingerprint; a source's current load",
            """
            ALTER TABLE dataprocess.runs
                ADD COLUMN profile_hash    text,
                ADD COLUMN key_fingerprint text,
                ADD COLUMN superseded      bigint,
                ADD COLUMN matched_run_id  uuid,
                ADD COLUMN replaced_by     uuid;

            -- A run's identity is now source, etag, profile and key, and a source's rows in a dataset are those of its
            -- latest successful load: the earlier successful loads of a source are marked replaced by it. Runs from
            -- before this version have no profile hash or key fingerprint, so they never match a new run: the next
            -- run of their source loads again.
            UPDATE dataprocess.runs r SET replaced_by = latest.run_id
            FROM (
                SELECT DISTINCT ON (dataset, source) dataset, source, run_id
                FROM dataprocess.runs WHERE status = 'succeeded'
                ORDER BY dataset, source, finished_at DESC, run_id
            ) latest
            WHERE r.status = 'succeeded' AND r.dataset = latest.dataset AND r.source = latest.source AND r.run_id <> latest.run_id;

            DROP INDEX dataprocess.runs_succeeded_source_version;

            -- The replay lookup, and the guarantee behind it: a source has one current load per dataset.
            CREATE UNIQUE INDEX runs_current_load
                ON dataprocess.runs (dataset, source)
                WHERE status = 'succeeded' AND replaced_by IS NULL;

            -- When each source version first loaded: its place in the order of loads when it is re-processed.
            CREATE INDEX runs_source_versions
                ON dataprocess.runs (dataset, source, source_etag, finished_at)
                WHERE status = 'succeeded';
            """),
    ];

    /// <summary>The schema version this build expects.</summary>
    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Applies the pending migrations; returns the versions it applied (empty when up to date).</summary>
    public static Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default) =>
        MigrateAsync(dataSource, LatestVersion, cancellationToken);

    /// <summary>Applies the pending migrations up to <paramref name="targetVersion"/> (tests upgrade a database of an older version).</summary>
    internal static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlDataSource dataSource, int targetVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        await using (var command = new NpgsqlCommand(
            """
            SELECT pg_advisory_xact_lock(hashtextextended(@key, 0));
            CREATE SCHEMA IF NOT EXISTS dataprocess;
            CREATE TABLE IF NOT EXISTS dataprocess.schema_version (
                version     integer     PRIMARY KEY,
                description text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            );
            """,
            connection,
            transaction))
        {
            command.CommandTimeout = 0; // waiting for another process's migration is expected
            command.Parameters.AddWithValue("key", LockKey);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int current;
        await using (var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM dataprocess.schema_version", connection, transaction))
        {
            current = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }

        if (current > LatestVersion)
        {
            throw new InvalidOperationException(
                $"The database schema is at version {current}, newer than this build knows ({LatestVersion}); deploy the newer build.");
        }

        var applied = new List<int>();
        foreach (var (version, description, sql) in Migrations.Where(m => m.Version > current && m.Version <= targetVersion))
        {
            await using (var command = new NpgsqlCommand(sql, connection, transaction))
            {
                command.CommandTimeout = 0;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var command = new NpgsqlCommand(
                "INSERT INTO dataprocess.schema_version (version, description) VALUES (@version, @description)", connection, transaction))
            {
                command.Parameters.AddWithValue("version", version);
                command.Parameters.AddWithValue("description", description);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            applied.Add(version);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return applied;
    }

    /// <summary>
    /// Checks, without changing anything, that the schema is at <see cref="LatestVersion"/>: the check of a function
    /// that connects as a least-privilege role (which may not migrate; the migrate function does, on deploy).
    /// </summary>
    public static async Task RequireCurrentAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        int current;
        try
        {
            await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM dataprocess.schema_version", connection);
            current = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            current = 0; // never migrated
        }

        if (current != LatestVersion)
        {
            throw new InvalidOperationException(current < LatestVersion
                ? $"The database schema is at version {current}, older than this build needs ({LatestVersion}); the migrate function migrates it on deploy (make deploy)."
                : $"The database schema is at version {current}, newer than this build knows ({LatestVersion}); deploy the newer build.");
        }
    }

    /// <summary>Applies the pending migrations on the database of <paramref name="connectionString"/>.</summary>
    public static async Task<IReadOnlyList<int>> MigrateAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await MigrateAsync(dataSource, cancellationToken).ConfigureAwait(false);
    }
}
