using DataProcess.Aws.Secrets;
using DataProcess.Core.Ports;
using DataProcess.Postgres;
using Npgsql;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// The one place where a deployed function's database connection is built; every function of this package that
/// reaches PostgreSQL gets it here. The endpoint comes from <see cref="DatabaseSettings"/>, the login from what the
/// environment names: the master secret (<c>DATAPROCESS_DB_SECRET_ID</c>, the migrate function) or a role of its own
/// (<c>DATAPROCESS_DB_USER</c>, IAM database authentication: see <see cref="CreateAsync"/>). One data source per
/// process, made on first use, so a warm Lambda container reuses its connections.
/// </summary>
internal static class FunctionDatabase
{
    private static readonly Lazy<Task<NpgsqlDataSource>> Source = new(() => CreateAsync(Environment.GetEnvironmentVariable, () => SsmSecretReader.Shared));

    private static readonly Lazy<Task<IRecordSink>> MigratedSink = new(async () =>
    {
        var dataSource = await Source.Value;
        await SchemaMigrator.MigrateAsync(dataSource);
        return new PostgresRecordSink(dataSource);
    });

    public static Task<NpgsqlDataSource> DataSourceAsync() => Source.Value;

    /// <summary>The sink, migrated before its first use; the runtime constructs the function without touching the database.</summary>
    public static IRecordSink Sink() => new DeferredSink(MigratedSink);

    internal static async Task<NpgsqlDataSource> CreateAsync(Func<string, string?> environment, Func<ISecretReader> secrets, CancellationToken cancellationToken = default)
    {
        var settings = DatabaseSettings.FromEnvironment(environment);
        if (settings.SecretId is { } secretId)
        {
            var (username, password) = await DatabaseCredentials.ReadAsync(secrets(), secretId, cancellationToken);
            var builder = settings.DataSourceBuilder(username);
            builder.ConnectionStringBuilder.Password = password;
            return builder.Build();
        }

        // DATAPROCESS_DB_USER (docs/infrastructure.md, "Database access"): the role logs in with an IAM authentication
        // token, a SigV4-presigned rds-db "connect" URL. Its generator is the one class to add; it plugs in here as
        // settings.DataSourceBuilder(settings.User).UsePeriodicPasswordProvider(...), refreshing the 15-minute token.
        throw new NotSupportedException(
            $"{DatabaseSettings.UserVariable}={settings.User}: IAM database authentication is not built yet; only the master secret ({DatabaseSettings.SecretVariable}) can log in");
    }

    private sealed class DeferredSink(Lazy<Task<IRecordSink>> sink) : IRecordSink
    {
        public async Task<Guid?> SkipIfLoadedAsync(RunDescriptor run, CancellationToken cancellationToken = default) =>
            await (await sink.Value).SkipIfLoadedAsync(run, cancellationToken);

        public async Task<LoadStart> BeginAsync(RunDescriptor run, bool reprocess, CancellationToken cancellationToken = default) =>
            await (await sink.Value).BeginAsync(run, reprocess, cancellationToken);

        public async Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default) =>
            await (await sink.Value).RecordFailureAsync(run, error, cancellationToken);
    }
}
