using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using DataProcess.Local;
using DataProcess.Postgres;

namespace DataProcess.Cli;

/// <summary><c>dataprocess lambda-serve</c>: the real handlers behind the Lambda Invoke API.</summary>
internal static class LambdaServeCommand
{
    public static Command Create(CliConsole console)
    {
        var port = new Option<int>("--port") { Description = "Port on 127.0.0.1 (0: any free port).", DefaultValueFactory = _ => 9001 };
        var store = new Option<string?>("--store") { Description = "Directory whose subdirectories are the buckets. Default: LOCAL_DIR/store." };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "The HMAC key (base64, at least 32 bytes). Default: $DATAPROCESS_HMAC_KEY." };
        var concurrency = new Option<Dictionary<string, int>>("--concurrency")
        {
            Description = "NAME=N: run at most N invocations of function NAME at once (as reserved concurrency does in AWS) and answer the rest 429 TooManyRequestsException. Repeatable.",
            Arity = ArgumentArity.ZeroOrMore,
            CustomParser = ConcurrencyLimits,
        };
        var localDir = DataProcessCli.LocalDirectoryOption(console);
        var command = new Command("lambda-serve", "Serve the handlers behind the Lambda Invoke API, for a local Step Functions engine.")
        {
            port, store, keyFile, concurrency, localDir,
        };

        command.SetAction(async (parse, ct) =>
        {
            var directory = parse.GetValue(localDir)!;
            var keys = new LocalHmacKeySource(parse.GetValue(keyFile)?.FullName, console.Environment);
            await keys.GetKeyAsync(ct);
            var connectionString = await DataProcessCli.DatabaseAsync(console, directory, ct);
            await SchemaMigrator.MigrateAsync(connectionString, ct);
            await using var sink = PostgresRecordSink.Create(connectionString);
            var objects = new DirectoryObjectStore(parse.GetValue(store) ?? Path.Combine(directory, "store"));

            await using var server = new LambdaInvokeServer(WorkflowFunctions.Create(objects, sink, keys, quarantine: true).BySuffix(), parse.GetValue(port), console.Error, parse.GetValue(concurrency));
            await console.Out.WriteLineAsync($"listening on {server.Url} (set AWS_ENDPOINT_URL_LAMBDA={server.Url}); Ctrl-C stops");
            await console.Out.FlushAsync(ct);
            await server.RunAsync(ct);
            return DataProcessCli.Success;
        });
        return command;
    }

    private static Dictionary<string, int> ConcurrencyLimits(ArgumentResult result)
    {
        var limits = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in result.Tokens)
        {
            var at = token.Value.IndexOf('=', StringComparison.Ordinal);
            if (at < 1 || !int.TryParse(token.Value.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
            {
                result.AddError($"--concurrency {token.Value}: expected NAME=N, a function name and a whole number (consolidation=2)");
                continue;
            }

            limits[token.Value[..at]] = limit;
        }

        return limits;
    }
}
