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

        var url = new Command("url", "Print the database as a postgresql:// URL psql accepts (DATAPROCESS_DATABASE, else the embedded cluster, started if needed).") { localDir };
        url.SetAction(async (parse, ct) =>
        {
            await console.Out.WriteLineAsync(PostgresUrl.From(await DataProcessCli.DatabaseAsync(console, parse.GetValue(localDir)!, ct)));
            return DataProcessCli.Success;
        });

        var psql = new Command("psql", "Open psql on the database (the URL `db url` prints); psql must be on PATH.") { localDir };
        psql.SetAction(async (parse, ct) =>
        {
            var target = PostgresUrl.From(await DataProcessCli.DatabaseAsync(console, parse.GetValue(localDir)!, ct));
            var start = new System.Diagnostics.ProcessStartInfo("psql") { ArgumentList = { target } };
            System.Diagnostics.Process process;
            try
            {
                process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("psql did not start");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new InvalidOperationException($"psql is not on PATH; install the PostgreSQL client, or connect another client to {target}");
            }

            using (process)
            {
                await process.WaitForExitAsync(ct);
                return process.ExitCode;
            }
        });

        return new Command("db", "The database: the embedded PostgreSQL cluster under the local directory, or DATAPROCESS_DATABASE.") { start, stop, url, psql };
    }
}
