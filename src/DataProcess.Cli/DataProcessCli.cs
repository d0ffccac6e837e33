using System.CommandLine;
using System.Runtime.InteropServices;
using DataProcess.Local;
using Spectre.Console;

namespace DataProcess.Cli;

/// <summary>
/// What the CLI talks to: stdout for results, stderr for errors, whether a person is watching, and
/// the environment (injected so tests can run commands side by side).
/// </summary>
internal sealed record CliConsole(IAnsiConsole Ansi, TextWriter Out, TextWriter Error, bool Interactive, Func<string, string?> Environment);

/// <summary>
/// The <c>dataprocess</c> command line. Exit codes: 0 success (a skipped replay too), 1 the input,
/// profile or key was refused or the run failed (one <c>error:</c> line on stderr), 2 usage, 130 / 143
/// stopped by SIGINT / SIGTERM (128 + the signal's number, as a shell reports a killed process).
/// </summary>
internal static class DataProcessCli
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;
    public const int Terminated = 143;

    public const string DebugVariable = "DATAPROCESS_DEBUG";
    public const string LocalDirectoryVariable = "DATAPROCESS_LOCAL_DIR";

    /// <param name="stopSignal">Which signal cancelled <paramref name="cancellationToken"/> (SIGINT when not known).</param>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken, Func<PosixSignal?>? stopSignal = null)
    {
        var root = new RootCommand("DataProcess: stream JSON files through enrichment and anonymization into PostgreSQL.");
        root.Subcommands.Add(RunCommand.Create(console));
        root.Subcommands.Add(GenerateCommand.Create(console));
        root.Subcommands.Add(KeygenCommand.Create(console));
        root.Subcommands.Add(DbCommand.Create(console));
        root.Subcommands.Add(LambdaServeCommand.Create(console));
        root.Subcommands.Add(UploadCommand.Create(console));
        root.Subcommands.Add(StackCommand.Create(console));
        root.Subcommands.Add(ProfilesCommand.Create(console));
        root.Subcommands.Add(RunsCommand.Create(console));
        root.Subcommands.Add(RejectsCommand.Create(console));

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await console.Error.WriteLineAsync($"error: {error.Message}");
            }

            await console.Error.WriteLineAsync("usage: dataprocess --help");
            return Usage;
        }

        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            var signal = stopSignal?.Invoke() ?? PosixSignal.SIGINT;
            await console.Error.WriteLineAsync(e is RunCancelledException cancelled
                ? $"error: stopped by {signal}: run {cancelled.RunId:D} is recorded as failed ({RunCancelledException.Reason}) and loaded nothing"
                : $"error: stopped by {signal}: nothing was loaded");
            return signal == PosixSignal.SIGTERM ? Terminated : Interrupted;
        }
        catch (UsageException e)
        {
            await console.Error.WriteLineAsync($"error: {e.Message}");
            await console.Error.WriteLineAsync("usage: dataprocess --help");
            return Usage;
        }
        catch (Exception e)
        {
            // One line, no stack trace: every message of ours names the file, record or field.
            await console.Error.WriteLineAsync($"error: {Describe(e)}");
            if (console.Environment(DebugVariable) == "1")
            {
                await console.Error.WriteLineAsync(e.ToString());
            }

            return Failed;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),

        // The handler's name for "retry me" in the state machine; on a workstation the cause says more.
        DatabaseFunctions.DatabaseUnavailableException { InnerException: { } inner } => Describe(inner),
        Npgsql.PostgresException pg => $"PostgreSQL: {pg.MessageText} ({pg.SqlState})",
        Npgsql.NpgsqlException npgsql => $"PostgreSQL: {npgsql.Message}",
        _ => e.Message.ReplaceLineEndings(" "),
    };

    internal static Option<string> LocalDirectoryOption(CliConsole console) => new("--local-dir")
    {
        Description = "Working directory for the local object store and the embedded cluster.",
        DefaultValueFactory = _ => console.Environment(LocalDirectoryVariable) is { Length: > 0 } value ? value : ".local",
    };

    /// <summary><c>DATAPROCESS_DATABASE</c> when set, else the embedded cluster (started on first use).</summary>
    internal static Task<string> DatabaseAsync(CliConsole console, string localDirectory, CancellationToken cancellationToken) =>
        LocalDatabase.ConnectionStringAsync(console.Environment, localDirectory, cancellationToken);
}
