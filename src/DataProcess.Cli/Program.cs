using System.Runtime.InteropServices;
using Spectre.Console;

namespace DataProcess.Cli;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var stop = StopSignals.Register();
        var console = new CliConsole(AnsiConsole.Console, Console.Out, Console.Error, Interactive: !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive, Environment.GetEnvironmentVariable);
        return await DataProcessCli.RunAsync(args, console, stop.Token, () => stop.Received);
    }
}

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM (kill, timeout, a CI runner or a container stop) stop a command the same way: the
/// first one cancels it cleanly (a run rolls back and is recorded as failed, "cancelled"); a second one kills the
/// process at once.
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _received;

    private StopSignals()
    {
    }

    public CancellationToken Token => _stop.Token;

    /// <summary>The first stop signal received, if any.</summary>
    public PosixSignal? Received { get; private set; }

    public static StopSignals Register()
    {
        var signals = new StopSignals();
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            signals._registrations.Add(PosixSignalRegistration.Create(signal, signals.Handle));
        }

        return signals;
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        if (Interlocked.Exchange(ref _received, 1) == 0)
        {
            Received = context.Signal;
            context.Cancel = true; // keep running until the run has rolled back and recorded itself
            _stop.Cancel();
        }

        // A second signal: the default action (the process ends now).
    }
}
