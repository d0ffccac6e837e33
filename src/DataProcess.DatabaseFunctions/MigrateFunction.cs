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

    /// <summary>Used by the Lambda runtime: the database, its master secret and the connection limit from the environment.</summary>
    public MigrateFunction()
        : this(FunctionDatabase.DataSourceAsync, DatabaseRoles.ConnectionLimitFromEnvironment(Environment.GetEnvironmentVariable))
    {
    }

    public MigrateFunction(Func<Task<NpgsqlDataSource>> database, int appConnectionLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(appConnectionLimit, 1);
        _database = database;
        _appConnectionLimit = appConnectionLimit;
    }

    public async Task<Stream> HandleAsync(Stream input)
    {
        using (var request = await JsonDocument.ParseAsync(input))
        {
            if (request.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"the migrate input must be a JSON object, not {request.RootElement.ValueKind}", nameof(input));
            }
        }

        var applied = await DatabaseOutages.ReportAsUnavailableAsync(async () =>
        {
            var dataSource = await _database();
            var versions = await SchemaMigrator.MigrateAsync(dataSource);
            await DatabaseRoles.ApplyAsync(dataSource, _appConnectionLimit);
            return versions;
        });
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
}
