using DataProcess.Core.Ports;
using DataProcess.DatabaseFunctions;
using Npgsql;

namespace DataProcess.Functions.Tests;

/// <summary>How a deployed function logs in to the database (FunctionDatabase, the one place that builds the connection).</summary>
public sealed class FunctionDatabaseTests
{
    private static readonly (string, string)[] Endpoint = [("DATAPROCESS_DB_HOST", "db.cluster.local"), ("DATAPROCESS_DB_NAME", "dataprocess"), ("DATAPROCESS_DB_SSL_ROOT_CERT", "rds-ca-bundle.pem")];

    [Fact]
    public async Task The_migrate_function_logs_in_with_the_master_secret()
    {
        var secrets = new RecordingSecrets("""{"username":"admin","password":"pw-from-the-secret"}""");

        await using var dataSource = await FunctionDatabase.CreateAsync(Environment([.. Endpoint, ("DATAPROCESS_DB_SECRET_ID", "arn:master")]), () => secrets);

        var connection = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        secrets.Read.Should().Equal("arn:master");
        connection.Host.Should().Be("db.cluster.local");
        connection.Username.Should().Be("admin");
        connection.SslMode.Should().Be(SslMode.VerifyFull);
    }

    [Fact]
    public async Task A_function_with_a_role_of_its_own_reads_no_secret_and_says_that_iam_authentication_is_missing()
    {
        var create = () => FunctionDatabase.CreateAsync(Environment([.. Endpoint, ("DATAPROCESS_DB_USER", "dataprocess_app")]), () => throw new InvalidOperationException("no secret may be read"));

        await create.Should().ThrowAsync<NotSupportedException>().WithMessage("DATAPROCESS_DB_USER=dataprocess_app: IAM database authentication is not built yet*");
    }

    private static Func<string, string?> Environment((string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private sealed class RecordingSecrets(string value) : ISecretReader
    {
        public List<string> Read { get; } = [];

        public Task<string> ReadAsync(string secretId, CancellationToken cancellationToken = default)
        {
            Read.Add(secretId);
            return Task.FromResult(value);
        }
    }
}
