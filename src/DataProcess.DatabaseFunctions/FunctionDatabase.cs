using DataProcess.Aws.Secrets;
using DataProcess.Core.Ports;
using DataProcess.Postgres;
using Npgsql;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// The one place where a deployed function's database connection is built; every function of this package that
/// reaches PostgreSQL gets it here. The endpoint comes from <see cref="DatabaseSettings"/>, the login from what the
/// environment names: the master secret (<c>DATAPROCESS_DB_SECRET_ID</c>, the migrate function) or a role of its own
/// (<c>DATAPROCESS_DB_USER</c>: <c>dataprocess_app</c> or <c>dataprocess_readonly</c>, logging in with an IAM
/// authentication token signed for each new connection). One data source per process, made on first use; a failure
/// to make it, or to reach the database the first time, is not kept (the next invocation tries again).
/// </summary>
internal sealed class FunctionDatabase
{
    /// <summary>The Lambda runtime's region: the region the IAM authentication token is signed for.</summary>
    public const string RegionVariable = "AWS_REGION";

    private static readonly FunctionDatabase ForProcess = new(() => CreateAsync(Environment.GetEnvironmentVariable, () => SsmSecretReader.Create(timeToLive: TimeSpan.Zero), RdsAuthToken.ForProcess));

    private readonly UntilSuccess<NpgsqlDataSource> _source;
    private readonly UntilSuccess<IRecordSink> _checkedSink;

    /// <param name="create">Builds the data source (tests: of their own database and login).</param>
    public FunctionDatabase(Func<Task<NpgsqlDataSource>> create)
    {
        _source = new(create);
        _checkedSink = new(async () =>
        {
            var dataSource = await _source.Value;
            await SchemaMigrator.RequireCurrentAsync(dataSource);
            return new PostgresRecordSink(dataSource);
        });
    }

    /// <summary>Signs an IAM authentication token for <c>host:port</c> as <c>user</c> in <c>region</c>.</summary>
    internal delegate string IamToken(string host, int port, string user, string region);

    /// <summary>The process's data source (the environment's database and login).</summary>
    public static Task<NpgsqlDataSource> DataSourceAsync() => ForProcess.DataSource();

    /// <summary>The process's sink: see <see cref="RecordSink"/>.</summary>
    public static IRecordSink Sink() => ForProcess.RecordSink();

    public Task<NpgsqlDataSource> DataSource() => _source.Value;

    /// <summary>
    /// The sink, once the schema is found at this build's version; the runtime constructs the function without
    /// touching the database. A function never migrates: its role may not, and the migrate function did on deploy.
    /// </summary>
    public IRecordSink RecordSink() => new DeferredSink(_checkedSink);

    internal static async Task<NpgsqlDataSource> CreateAsync(Func<string, string?> environment, Func<ISecretReader> secrets, IamToken iamToken, CancellationToken cancellationToken = default)
    {
        var settings = DatabaseSettings.FromEnvironment(environment);
        settings = settings with { RootCertificate = ShippedFile(settings.RootCertificate) };
        if (settings.SecretId is { } secretId)
        {
            // The user name is fixed; the password is read again for every new connection, so a rotation of the
            // managed master secret (every 7 days) reaches a warm container at its next connection.
            var reader = secrets();
            var (username, _) = await DatabaseCredentials.ReadAsync(reader, secretId, cancellationToken);
            var builder = WithoutIdlePool(settings.DataSourceBuilder(username));
            builder.UsePasswordProvider(
                _ => DatabaseCredentials.ReadAsync(reader, secretId).GetAwaiter().GetResult().Password,
                async (_, ct) => (await DatabaseCredentials.ReadAsync(reader, secretId, ct)).Password);
            return builder.Build();
        }

        // IAM database authentication: the password is a token, valid 15 minutes, signed when a connection opens. A
        // periodic provider would refresh it on a timer, which cannot fire while Lambda has the process frozen, so a
        // thawed container could present an expired token; signing is local HMAC work, so sign per connection.
        var region = environment(RegionVariable) is { Length: > 0 } r
            ? r
            : throw new InvalidOperationException($"the environment variable {RegionVariable} is not set (the IAM authentication token of {DatabaseSettings.UserVariable} is signed for it)");
        var user = settings.User!;
        var iam = WithoutIdlePool(settings.DataSourceBuilder(user));
        iam.UsePasswordProvider(
            _ => iamToken(settings.Host, settings.Port, user, region),
            (_, _) => ValueTask.FromResult(iamToken(settings.Host, settings.Port, user, region)));
        return iam.Build();
    }

    /// <summary>
    /// No connection outlives its use: Aurora Serverless v2 only auto-pauses with no user connection open, and a
    /// frozen Lambda container would otherwise hold its idle pooled connections for as long as it lives. An
    /// invocation opens the few connections it needs (each signed anew) and closes them; the CLI keeps its pool.
    /// </summary>
    private static NpgsqlDataSourceBuilder WithoutIdlePool(NpgsqlDataSourceBuilder builder)
    {
        builder.ConnectionStringBuilder.Pooling = false;
        return builder;
    }

    /// <summary>A relative path names a file the package ships: it is resolved against the function's directory.</summary>
    private static string? ShippedFile(string? path)
    {
        if (path is null)
        {
            return null;
        }

        var full = Path.GetFullPath(path, AppContext.BaseDirectory);
        return File.Exists(full)
            ? full
            : throw new InvalidOperationException($"{DatabaseSettings.RootCertificateVariable}: the CA bundle {full} does not exist (the package ships rds-ca-bundle.pem)");
    }

    private sealed class DeferredSink(UntilSuccess<IRecordSink> sink) : IRecordSink
    {
        public async Task<Guid?> SkipIfLoadedAsync(RunDescriptor run, CancellationToken cancellationToken = default) =>
            await (await sink.Value).SkipIfLoadedAsync(run, cancellationToken);

        public async Task<LoadStart> BeginAsync(RunDescriptor run, bool reprocess, CancellationToken cancellationToken = default) =>
            await (await sink.Value).BeginAsync(run, reprocess, cancellationToken);

        public async Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default) =>
            await (await sink.Value).RecordFailureAsync(run, error, cancellationToken);
    }
}
