using System.Text.Json;
using DataProcess.Postgres;
using Npgsql;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// Lambda handler <c>DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.MigrateFunction::HandleAsync</c>,
/// invoked by <c>terraform apply</c> (<c>aws_lambda_invocation.migrate</c>), never by the workflow: over the
/// master-secret connection it migrates the schema, then creates or updates the functions' login roles
/// (<see cref="DatabaseRoles"/>, the application role's connection limit from <c>DATAPROCESS_DB_CONNECTION_LIMIT</c>),
/// and answers <c>{"schemaVersion","applied"}</c>. The input (<c>{"requestedBy":"terraform"}</c>) steers nothing; it
/// must be a JSON object.
/// </summary>
public sealed class MigrateFunction
{
    private readonly Func<Task<NpgsqlDataSource>> _database;
    private readonly int _appConnectionLimit;
    private readonly TimeSpan _resumeBudget;

    /// <summary>Used by the Lambda runtime: the database, its master secret and the connection limit from the environment.</summary>
    public MigrateFunction()
        : this(FunctionDatabase.DataSourceAsync, DatabaseRoles.ConnectionLimitFromEnvironment(Environment.GetEnvironmentVariable))
    {
    }

    public MigrateFunction(Func<Task<NpgsqlDataSource>> database, int appConnectionLimit)
        : this(database, appConnectionLimit, DefaultResumeBudget)
    {
    }

    /// <param name="resumeBudget">How long a transient failure is retried (tests: shorter).</param>
    internal MigrateFunction(Func<Task<NpgsqlDataSource>> database, int appConnectionLimit, TimeSpan resumeBudget)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(appConnectionLimit, 1);
        _database = database;
        _appConnectionLimit = appConnectionLimit;
        _resumeBudget = resumeBudget;
    }

    /// <summary>
    /// Nothing retries this function (Terraform invokes it once; a failure fails the apply), so it waits out what the
    /// workflow would retry: Aurora resuming from auto-pause (about 15 s, longer after a long pause) or restarting.
    /// Well inside the function's 900 s timeout.
    /// </summary>
    internal static readonly TimeSpan DefaultResumeBudget = TimeSpan.FromMinutes(5);

    public async Task<Stream> HandleAsync(Stream input)
    {
        using (var request = await JsonDocument.ParseAsync(input))
        {
            if (request.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"the migrate input must be a JSON object, not {request.RootElement.ValueKind}", nameof(input));
            }
        }

        var applied = await DatabaseOutages.ReportAsUnavailableAsync(MigrateWhileResumingAsync);
        var output = new MemoryStream();
        await using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteNumber("schemaVersion", SchemaMigrator.LatestVersion);
            json.WriteStartArray("applied");
            foreach (var version in applied)
            {
                json.WriteNumberValue(version);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        output.Position = 0;
        return output;
    }

    /// <summary>
    /// Migrations, then roles, retried on a transient failure until <see cref="_resumeBudget"/> is spent (waits of 1 s
    /// doubling to 30 s), and once on 28P01: the master password rotated between the secret's read and the login
    /// (every new connection reads the secret again, so the retry presents the current password).
    /// </summary>
    private async Task<IReadOnlyList<int>> MigrateWhileResumingAsync()
    {
        var deadline = DateTimeOffset.UtcNow + _resumeBudget;
        var wait = TimeSpan.FromSeconds(1);
        var passwordRetried = false;
        while (true)
        {
            try
            {
                var dataSource = await _database();
                var versions = await SchemaMigrator.MigrateAsync(dataSource);
                await DatabaseRoles.ApplyAsync(dataSource, _appConnectionLimit);
                return versions;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword && !passwordRetried)
            {
                passwordRetried = true;
            }
            catch (Exception e) when (PostgresRecordSink.IsTransient(e) && DateTimeOffset.UtcNow + wait < deadline)
            {
                await Task.Delay(wait);
                wait = TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds * 2, 30));
            }
        }
    }
}
