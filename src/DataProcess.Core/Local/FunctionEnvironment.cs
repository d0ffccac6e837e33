using DataProcess.Core.Ports;

namespace DataProcess.Core.Local;

/// <summary>
/// Reads a function's configuration from its environment: names and locations only, never secrets.
/// </summary>
public static class FunctionEnvironment
{
    public const string LocalStoreVariable = "DATAPROCESS_LOCAL_STORE";

    /// <summary>The object store named by the environment.</summary>
    public static IObjectStore ObjectStore()
    {
        var root = Environment.GetEnvironmentVariable(LocalStoreVariable);
        if (string.IsNullOrEmpty(root))
        {
            throw new InvalidOperationException($"no object store configured: set {LocalStoreVariable} to a directory whose subdirectories are the buckets");
        }

        return new DirectoryObjectStore(root);
    }

    public static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"the environment variable {name} is not set");
}
