using DataProcess.Aws;
using DataProcess.Core.Ports;
using DataProcess.Postgres;

namespace DataProcess.Consolidation;

/// <summary>
/// The database the functions load into, from the environment: a connection string in
/// <c>DATAPROCESS_DATABASE</c>, or in AWS the Aurora cluster from <c>DATAPROCESS_DB_*</c> and its managed
/// secret (see <see cref="AwsFunctionEnvironment"/>). Created once per process and migrated before first use, so a warm
/// Lambda container reuses its connection pool.
/// </summary>
internal static class DatabaseEnvironment
{
    public const string ConnectionVariable = "DATAPROCESS_DATABASE";

    private static readonly Lazy<Task<IRecordSink>> Sink = new(CreateAsync);

    public static IRecordSink Lazy() => new DeferredSink(Sink);

    private static async Task<IRecordSink> CreateAsync()
    {
        var connectionString = await AwsFunctionEnvironment.DatabaseConnectionStringAsync();
        await SchemaMigrator.MigrateAsync(connectionString);
        return PostgresRecordSink.Create(connectionString);
    }

    /// <summary>Lets the runtime construct the function without touching the database.</summary>
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
