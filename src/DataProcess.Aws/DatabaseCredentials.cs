using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace DataProcess.Aws;

/// <summary>
/// The database connection in AWS: host, port and database name from the environment
/// (<c>DATAPROCESS_DB_HOST</c>, <c>DATAPROCESS_DB_PORT</c>, <c>DATAPROCESS_DB_NAME</c>), the user and
/// password from the Aurora-managed master secret (<c>DATAPROCESS_DB_SECRET_ID</c>, JSON
/// <c>{"username","password"}</c>). TLS is required (<c>SSL Mode=Require</c>: encrypted; the RDS CA is
/// not in the Lambda runtime's trust store); with <c>DATAPROCESS_DB_SSL_ROOT_CERT</c> pointing at the
/// RDS CA bundle shipped in the package, the server certificate and host name are verified too
/// (<c>VerifyFull</c>). The password never reaches a log or an exception message.
/// </summary>
public static class DatabaseCredentials
{
    public const string HostVariable = "DATAPROCESS_DB_HOST";
    public const string PortVariable = "DATAPROCESS_DB_PORT";
    public const string NameVariable = "DATAPROCESS_DB_NAME";
    public const string SecretVariable = "DATAPROCESS_DB_SECRET_ID";
    public const string RootCertificateVariable = "DATAPROCESS_DB_SSL_ROOT_CERT";

    public static async Task<string> ConnectionStringAsync(ISecretReader secrets, Func<string, string?> environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(environment);
        string Required(string name) => environment(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"the environment variable {name} is not set");

        var secretId = Required(SecretVariable);
        var (username, password) = Parse(await secrets.ReadAsync(secretId, cancellationToken), secretId);
        var portText = environment(PortVariable);
        var port = 5432;
        if (!string.IsNullOrEmpty(portText) && !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port))
        {
            throw new InvalidOperationException($"{PortVariable} is not a port number");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Required(HostVariable),
            Port = port,
            Database = Required(NameVariable),
            Username = username,
            Password = password,
            SslMode = SslMode.Require,
            ApplicationName = "dataprocess",
            Timeout = 30,
        };
        if (environment(RootCertificateVariable) is { Length: > 0 } rootCertificate)
        {
            builder.SslMode = SslMode.VerifyFull;
            builder.RootCertificate = rootCertificate;
        }

        return builder.ConnectionString;
    }

    /// <summary>Reads <c>{"username","password"}</c>; errors say what is missing, never what is there.</summary>
    internal static (string Username, string Password) Parse(string secret, string secretId)
    {
        try
        {
            using var document = JsonDocument.Parse(secret);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("username", out var user) && user.ValueKind == JsonValueKind.String && user.GetString() is { Length: > 0 } username
                && root.TryGetProperty("password", out var pass) && pass.ValueKind == JsonValueKind.String && pass.GetString() is { Length: > 0 } password)
            {
                return (username, password);
            }
        }
        catch (JsonException)
        {
            // JsonException messages can quote the text around the error: never surface them.
        }

        throw new SecretUnavailableException($"the secret {secretId} is not a JSON object with string fields \"username\" and \"password\"");
    }
}
