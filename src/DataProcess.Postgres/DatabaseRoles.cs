using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace DataProcess.Postgres;

/// <summary>
/// The two LOGIN roles the functions connect as (docs/infrastructure.md, "Database access"), made by the migrate
/// function as the master user after the migrations: <see cref="AppRole"/> (DML on schema <c>dataprocess</c> and TEMP
/// on the database: the load stages rows in a temporary table; ReplayCheck, Consolidation, RecordFailure) and
/// <see cref="ReadOnlyRole"/> (SELECT; RunStatus). Neither may create, alter or drop a table, and neither may change
/// <c>schema_version</c>. On Aurora both are members of <c>rds_iam</c> (IAM database authentication); where that role
/// does not exist (a plain PostgreSQL) the grant is skipped.
/// </summary>
/// <remarks>
/// Roles are cluster-wide while grants are per database, so this runs on every deploy and on a cluster where the roles
/// exist already (another database, an earlier deploy): a role is created when missing, altered only when its
/// attributes differ, and two databases of one cluster applying it at once are retried rather than failed.
/// </remarks>
public static partial class DatabaseRoles
{
    public const string AppRole = "dataprocess_app";
    public const string ReadOnlyRole = "dataprocess_readonly";

    /// <summary>The default of <c>DATAPROCESS_DB_CONNECTION_LIMIT</c> (Terraform: <c>db_app_connection_limit</c>).</summary>
    public const int DefaultConnectionLimit = 20;

    public const int MaxConnectionLimit = 1000;

    /// <summary>The migrate function's cap on the application role's connections.</summary>
    public const string ConnectionLimitVariable = "DATAPROCESS_DB_CONNECTION_LIMIT";

    /// <summary>Aurora's role whose members log in with IAM authentication tokens.</summary>
    internal const string IamRole = "rds_iam";

    private const int Attempts = 5;

    /// <summary>Creates or updates both roles and their grants on the database of <paramref name="dataSource"/>.</summary>
    public static Task ApplyAsync(NpgsqlDataSource dataSource, int appConnectionLimit, CancellationToken cancellationToken = default) =>
        ApplyAsync(dataSource, AppRole, ReadOnlyRole, appConnectionLimit, IamRole, cancellationToken);

    /// <summary>The connection limit from the environment: unset is <see cref="DefaultConnectionLimit"/>; anything but 1–1000 is an error naming the variable.</summary>
    public static int ConnectionLimitFromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment(ConnectionLimitVariable) is not { Length: > 0 } text)
        {
            return DefaultConnectionLimit;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxConnectionLimit
            ? limit
            : throw new InvalidOperationException($"{ConnectionLimitVariable} must be a whole number between 1 and {MaxConnectionLimit}");
    }

    /// <summary>With other role names (tests that must not share the cluster-wide roles with each other).</summary>
    internal static async Task ApplyAsync(NpgsqlDataSource dataSource, string appRole, string readOnlyRole, int appConnectionLimit, string iamRole, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentOutOfRangeException.ThrowIfLessThan(appConnectionLimit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(appConnectionLimit, MaxConnectionLimit);
        var sql = Script(Identifier(appRole), Identifier(readOnlyRole), appConnectionLimit, Identifier(iamRole));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (var command = new NpgsqlCommand(sql, connection, transaction))
                {
                    command.Parameters.AddWithValue("key", SchemaMigrator.LockKey);
                    command.CommandTimeout = 0; // waiting for another migrate invocation's lock is expected
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PostgresException e) when (attempt < Attempts && IsConcurrentRoleChange(e))
            {
                // Another database of this cluster changed the same role row at the same moment: the next attempt sees it.
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A role name as a quoted identifier; only plain lower-case names are accepted (they are spliced into DDL).</summary>
    private static string Identifier(string role) =>
        RoleName().IsMatch(role) ? $"\"{role}\"" : throw new ArgumentException($"the role name '{role}' is not a lower-case identifier", nameof(role));

    /// <summary>
    /// 23505/42710: two transactions created the same role; XX000 "tuple concurrently updated": two altered it or
    /// granted on it; 40001/40P01 likewise.
    /// </summary>
    private static bool IsConcurrentRoleChange(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateObject or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
        || (e.SqlState == PostgresErrorCodes.InternalError && e.MessageText.Contains("concurrently", StringComparison.Ordinal));

    private static string Script(string app, string readOnly, int limit, string iam)
    {
        var iamName = iam.Trim('"');
        var appName = app.Trim('"');
        var readOnlyName = readOnly.Trim('"');
        return $$"""
            SELECT pg_advisory_xact_lock(hashtextextended(@key, 0));

            DO $roles$
            BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{{appName}}') THEN
                    CREATE ROLE {{app}} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT {{limit}};
                ELSIF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{{appName}}' AND rolcanlogin AND rolconnlimit = {{limit}}
                                  AND NOT (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
                    ALTER ROLE {{app}} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT {{limit}};
                END IF;

                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{{readOnlyName}}') THEN
                    CREATE ROLE {{readOnly}} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
                ELSIF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{{readOnlyName}}' AND rolcanlogin
                                  AND NOT (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)) THEN
                    ALTER ROLE {{readOnly}} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
                END IF;

                -- Aurora: the roles log in with IAM authentication tokens. A plain PostgreSQL has no rds_iam.
                IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{{iamName}}') THEN
                    IF NOT pg_has_role('{{appName}}', '{{iamName}}', 'MEMBER') THEN
                        GRANT {{iam}} TO {{app}};
                    END IF;
                    IF NOT pg_has_role('{{readOnlyName}}', '{{iamName}}', 'MEMBER') THEN
                        GRANT {{iam}} TO {{readOnly}};
                    END IF;
                END IF;

                -- Nothing through PUBLIC: a database's default CONNECT and TEMP, and CREATE on schema public
                -- (PostgreSQL 15 revokes that one already; older versions do not).
                EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
                EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO {{app}}', current_database());
                EXECUTE format('GRANT CONNECT ON DATABASE %I TO {{readOnly}}', current_database());
            END
            $roles$;

            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            GRANT USAGE ON SCHEMA dataprocess TO {{app}}, {{readOnly}};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dataprocess TO {{app}};
            REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON dataprocess.schema_version FROM {{app}};
            GRANT SELECT ON ALL TABLES IN SCHEMA dataprocess TO {{readOnly}};
            """;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex RoleName();
}
