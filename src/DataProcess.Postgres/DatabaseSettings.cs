using System.Globalization;
using Npgsql;

namespace DataProcess.Postgres;

/// <summary>
/// Where a deployed function's database is and how it logs in, from its environment: names and locations, never a
/// secret (docs/infrastructure.md, "Database access"). <c>DATAPROCESS_DB_HOST</c>, <c>DATAPROCESS_DB_PORT</c>
/// (default 5432), <c>DATAPROCESS_DB_NAME</c>, <c>DATAPROCESS_DB_SSL_ROOT_CERT</c> (the RDS CA bundle the package ships:
/// with it the server certificate and host name are verified, <c>VerifyFull</c>; without it the connection is still
/// encrypted, <c>Require</c>; a host that is a Unix socket directory, a local stand-in, has no TLS), and exactly one login: <c>DATAPROCESS_DB_SECRET_ID</c> (the Aurora-managed master
/// secret, the migrate function's only) or <c>DATAPROCESS_DB_USER</c> (a least-privilege role that logs in with an IAM
/// authentication token).
/// </summary>
public sealed record DatabaseSettings
{
    public const string HostVariable = "DATAPROCESS_DB_HOST";
    public const string PortVariable = "DATAPROCESS_DB_PORT";
    public const string NameVariable = "DATAPROCESS_DB_NAME";
    public const string RootCertificateVariable = "DATAPROCESS_DB_SSL_ROOT_CERT";
    public const string SecretVariable = "DATAPROCESS_DB_SECRET_ID";
    public const string UserVariable = "DATAPROCESS_DB_USER";

    public const int DefaultPort = 5432;

    public required string Host { get; init; }

    public int Port { get; init; } = DefaultPort;

    public required string Database { get; init; }

    /// <summary>The CA bundle to verify the server against; null: encrypted without verification.</summary>
    public string? RootCertificate { get; init; }

    /// <summary>The master secret's id: the login of the migrate function. Null when <see cref="User"/> is set.</summary>
    public string? SecretId { get; init; }

    /// <summary>The database role to log in as with an IAM token. Null when <see cref="SecretId"/> is set.</summary>
    public string? User { get; init; }

    /// <summary>Reads the settings; a missing or contradictory variable is an error that names it.</summary>
    public static DatabaseSettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Optional(string name) => environment(name) is { Length: > 0 } value ? value : null;
        string Required(string name) => Optional(name) ?? throw new InvalidOperationException($"the environment variable {name} is not set (the function reaches the database)");

        var port = DefaultPort;
        if (Optional(PortVariable) is { } portText && !(int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535))
        {
            throw new InvalidOperationException($"{PortVariable} is not a port number");
        }

        var settings = new DatabaseSettings
        {
            Host = Required(HostVariable),
            Port = port,
            Database = Required(NameVariable),
            RootCertificate = Optional(RootCertificateVariable),
            SecretId = Optional(SecretVariable),
            User = Optional(UserVariable),
        };
        return (settings.SecretId, settings.User) switch
        {
            (null, null) => throw new InvalidOperationException($"no database login: set {UserVariable} (a role with IAM authentication) or, for the migrate function only, {SecretVariable}"),
            ({ }, { }) => throw new InvalidOperationException($"both {UserVariable} and {SecretVariable} are set: a function logs in one way (only the migrate function holds the master secret)"),
            _ => settings,
        };
    }

    /// <summary>
    /// <c>VerifyFull</c> with a CA bundle (AWS: the server certificate chains to an RDS root and names the endpoint);
    /// <c>Require</c> without one; no TLS on a Unix socket (a host that is a directory: a local stand-in, where
    /// PostgreSQL never offers TLS and the socket's file permissions are the protection).
    /// </summary>
    internal static SslMode SslModeFor(string host, string? rootCertificate) =>
        host.StartsWith('/') ? SslMode.Disable : rootCertificate is null ? SslMode.Require : SslMode.VerifyFull;

    /// <summary>A data source builder for this endpoint as <paramref name="username"/>; the caller adds the password.</summary>
    public NpgsqlDataSourceBuilder DataSourceBuilder(string username)
    {
        var builder = new NpgsqlDataSourceBuilder();
        var connection = builder.ConnectionStringBuilder;
        connection.Host = Host;
        connection.Port = Port;
        connection.Database = Database;
        connection.Username = username;
        connection.SslMode = SslModeFor(Host, RootCertificate);
        connection.RootCertificate = RootCertificate;
        connection.ApplicationName = "dataprocess";
        connection.Timeout = 30;
        return builder;
    }
}
