namespace DataProcess.Core.Ports;

/// <summary>Reads a secret's value by its id (name or ARN).</summary>
public interface ISecretReader
{
    Task<string> ReadAsync(string secretId, CancellationToken cancellationToken = default);
}

/// <summary>The secret could not be read. The message names the secret and the AWS error code, never a value.</summary>
public sealed class SecretUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
