using System.CommandLine;
using DataProcess.Local;
using DataProcess.Postgres;

namespace DataProcess.Cli;

/// <summary><c>dataprocess db</c>: the embedded PostgreSQL cluster under the local directory.</summary>
internal static class DbCommand
{
    public static Command Create(CliConsole console)
    {
        var localDir = DataProcessCli.LocalDirectoryOption(console);
        var start = new Command("start", "Start the embedded PostgreSQL cluster (created on first use) and print its connection string.") { localDir };
        start.SetAction(async (parse, ct) =>
        {
            var cluster = await LocalPostgresCluster.StartAsync(LocalDatabase.ClusterDirectory(parse.GetValue(localDir)!), durable: true, ct);
            await SchemaMigrator.MigrateAsync(cluster.ConnectionString, ct);
            await console.Out.WriteLineAsync(cluster.ConnectionString);
            return DataProcessCli.Success;
        });

        var stop = new Command("stop", "Stop the embedded PostgreSQL cluster.") { localDir };
        stop.SetAction(async (parse, ct) =>
        {
            var stopped = await LocalPostgresCluster.StopIfRunningAsync(LocalDatabase.ClusterDirectory(parse.GetValue(localDir)!), ct);
            await console.Out.WriteLineAsync(stopped ? "stopped" : "not running");
            return DataProcessCli.Success;
        });

        return new Command("db", "The embedded PostgreSQL cluster under the local directory.") { start, stop };
    }
}
