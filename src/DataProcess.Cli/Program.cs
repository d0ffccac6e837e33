using Spectre.Console;

namespace DataProcess.Cli;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl-C cancels the run cleanly (the transaction rolls back); a second one kills.
            e.Cancel = !cancellation.IsCancellationRequested;
            cancellation.Cancel();
        };

        var console = new CliConsole(AnsiConsole.Console, Console.Out, Console.Error, Interactive: !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive, Environment.GetEnvironmentVariable);
        return await DataProcessCli.RunAsync(args, console, cancellation.Token);
    }
}
