namespace DataProcess.Local;

/// <summary>The database of a local run: <c>DATAPROCESS_DATABASE</c> when set, else the embedded cluster.</summary>
public static class LocalDatabase
{
    /// <summary>An Npgsql connection string to use instead of the embedded cluster.</summary>
    public const string ConnectionVariable = "DATAPROCESS_DATABASE";

    /// <summary>The connection string of <c>DATAPROCESS_DATABASE</c>, else of the cluster under <c>LOCAL_DIR/pg</c> (started on first use).</summary>
    public static async Task<string> ConnectionStringAsync(Func<string, string?> environment, string localDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment(ConnectionVariable) is { Length: > 0 } connectionString)
        {
            return connectionString;
        }

        var cluster = await LocalPostgresCluster.StartAsync(ClusterDirectory(localDirectory), durable: true, cancellationToken);
        return cluster.ConnectionString;
    }

    /// <summary>Where the embedded cluster of <paramref name="localDirectory"/> lives.</summary>
    public static string ClusterDirectory(string localDirectory) => Path.Combine(localDirectory, "pg");
}
