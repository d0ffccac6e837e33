using System.Globalization;
using System.Text;
using Npgsql;

namespace DataProcess.Cli;

/// <summary>
/// A connection string as the <c>postgresql://</c> URL psql and libpq accept. A Unix-socket host (a directory, as the
/// embedded cluster uses) goes in the <c>host</c> query parameter, since a path cannot be a URL's host. The password is
/// left out: a URL is printed and pasted, so it must not carry a secret (psql reads <c>PGPASSWORD</c> or prompts).
/// </summary>
internal static class PostgresUrl
{
    public static string From(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var url = new StringBuilder("postgresql://");
        if (!string.IsNullOrEmpty(builder.Username))
        {
            url.Append(Uri.EscapeDataString(builder.Username)).Append('@');
        }

        var host = builder.Host ?? string.Empty;
        var socket = host.StartsWith('/');
        if (!socket)
        {
            url.Append(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host);
            url.Append(':').Append(builder.Port.ToString(CultureInfo.InvariantCulture));
        }

        url.Append('/').Append(Uri.EscapeDataString(builder.Database ?? "postgres"));
        var query = new List<string>();
        if (socket)
        {
            query.Add("host=" + Uri.EscapeDataString(host));
            query.Add("port=" + builder.Port.ToString(CultureInfo.InvariantCulture));
        }

        if (builder.SslMode is SslMode.Require or SslMode.VerifyCA or SslMode.VerifyFull)
        {
            query.Add("sslmode=" + builder.SslMode switch { SslMode.Require => "require", SslMode.VerifyCA => "verify-ca", _ => "verify-full" });
        }

        return query.Count == 0 ? url.ToString() : $"{url}?{string.Join('&', query)}";
    }
}
