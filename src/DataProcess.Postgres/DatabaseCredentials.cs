using System.Text.Json;
using DataProcess.Core.Ports;

namespace DataProcess.Postgres;

/// <summary>
/// The user and password of the Aurora-managed master secret (JSON <c>{"username","password"}</c>), which only the
/// migrate function may read. The password never reaches a log or an exception message.
/// </summary>
public static class DatabaseCredentials
{
    public static async Task<(string Username, string Password)> ReadAsync(ISecretReader secrets, string secretId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return Parse(await secrets.ReadAsync(secretId, cancellationToken), secretId);
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
