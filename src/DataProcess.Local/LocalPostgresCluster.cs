using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace DataProcess.Local;

/// <summary>
/// A PostgreSQL cluster under a local directory, run from the server binaries on PATH (<c>initdb</c>,
/// <c>pg_ctl</c>, <c>postgres</c>): the database of <c>make run</c> and of the tests.
/// </summary>
/// <remarks>
/// Layout: <c>directory/data</c> (the cluster), <c>directory/run</c> (the Unix socket; the server listens on
/// no TCP address), <c>directory/postgres.log</c>, <c>directory/.lock</c> (serialises init/start between
/// processes). <c>initdb</c>, <c>pg_ctl</c> and <c>postgres</c> refuse to run as root; when this process is
/// root they run as the <c>postgres</c> system user through <c>runuser</c>, on a directory it owns.
/// Disposing does not stop the server (the cluster is meant to persist between runs); call
/// <see cref="StopAsync"/> to stop it.
/// </remarks>
public sealed class LocalPostgresCluster : IAsyncDisposable
{
    /// <summary>The port number is only part of the socket file name (<c>.s.PGSQL.5432</c>): no TCP listener.</summary>
    public const int Port = 5432;

    private const string ServiceUser = "postgres";

    // sun_path is 108 bytes including the terminating NUL.
    private const int MaxSocketPathBytes = 107;

    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(3);

    private LocalPostgresCluster(string directory, string socketDirectory, bool durable)
    {
        Directory = directory;
        SocketDirectory = socketDirectory;
        Durable = durable;
        ConnectionString = BuildConnectionString("postgres");
    }

    /// <summary>The cluster's root directory (absolute).</summary>
    public string Directory { get; }

    /// <summary>The data directory, <c>Directory/data</c>.</summary>
    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>The server log, <c>Directory/postgres.log</c>.</summary>
    public string LogFile => Path.Combine(Directory, "postgres.log");

    /// <summary>The directory holding the Unix socket.</summary>
    public string SocketDirectory { get; }

    /// <summary>Whether the server was started with fsync on (false: test settings, fast and crash-unsafe).</summary>
    public bool Durable { get; }

    /// <summary>A connection string for the <c>postgres</c> database as the <c>postgres</c> superuser.</summary>
    public string ConnectionString { get; }

    /// <summary>Starts (initialising if needed) a durable cluster under <paramref name="directory"/>, or reuses the running one.</summary>
    public static Task<LocalPostgresCluster> StartAsync(string directory, CancellationToken cancellationToken = default) =>
        StartAsync(directory, durable: true, cancellationToken);

    /// <summary>
    /// Starts (initialising if needed) the cluster under <paramref name="directory"/>, or reuses it when it is
    /// already running. <paramref name="durable"/> = false turns off fsync, synchronous_commit and
    /// full_page_writes: for throwaway test clusters only (a crash can corrupt the cluster). It only takes effect
    /// when this call starts the server.
    /// </summary>
    public static async Task<LocalPostgresCluster> StartAsync(string directory, bool durable, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            throw new PlatformNotSupportedException($"The local PostgreSQL cluster needs a Unix-like system; set {LocalDatabase.ConnectionVariable} to a connection string instead.");
        }

        directory = Path.GetFullPath(directory);
        var initdb = FindExecutable("initdb");
        var pgCtl = FindExecutable("pg_ctl");
        var runAsServiceUser = Environment.IsPrivilegedProcess;

        System.IO.Directory.CreateDirectory(directory);
        if (runAsServiceUser)
        {
            EnsureTraversable(directory);
        }

        var socketDirectory = ChooseSocketDirectory(directory);
        var cluster = new LocalPostgresCluster(directory, socketDirectory, durable);

        await using (await AcquireLockAsync(Path.Combine(directory, ".lock"), cancellationToken).ConfigureAwait(false))
        {
            // Authentication is "trust": whoever can reach the socket is superuser. Only the cluster's owner
            // (and root) may enter the socket directory.
            System.IO.Directory.CreateDirectory(socketDirectory);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(socketDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            if (runAsServiceUser)
            {
                await RunAsync("chown", ["-R", ServiceUser + ":", directory], directory, asServiceUser: false, cancellationToken).ConfigureAwait(false);
                if (!socketDirectory.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    await RunAsync("chown", ["-R", ServiceUser + ":", socketDirectory], directory, asServiceUser: false, cancellationToken).ConfigureAwait(false);
                }
            }

            if (!File.Exists(Path.Combine(cluster.DataDirectory, "PG_VERSION")))
            {
                await cluster.InitAsync(initdb, runAsServiceUser, cancellationToken).ConfigureAwait(false);
            }

            if (await cluster.IsRunningAsync(pgCtl, runAsServiceUser, cancellationToken).ConfigureAwait(false))
            {
                if (!await cluster.AnswersAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new InvalidOperationException(
                        $"A PostgreSQL server is running on {cluster.DataDirectory} but does not answer on the socket in {socketDirectory}. " +
                        $"Stop it (pg_ctl stop -D {cluster.DataDirectory}) and try again.{cluster.LogTail()}");
                }
            }
            else
            {
                await cluster.StartServerAsync(pgCtl, runAsServiceUser, cancellationToken).ConfigureAwait(false);
            }
        }

        return cluster;
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl stop -m fast</c>: sessions are disconnected). Does nothing when it is not running.
    /// Pooled connections to it break; callers should dispose their data sources first.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var pgCtl = FindExecutable("pg_ctl");
        var asServiceUser = Environment.IsPrivilegedProcess;
        if (!await IsRunningAsync(pgCtl, asServiceUser, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var result = await RunAsync(pgCtl, ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"], Directory, asServiceUser, cancellationToken)
            .ConfigureAwait(false);
        if (result.ExitCode != 0 && await IsRunningAsync(pgCtl, asServiceUser, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"pg_ctl stop failed (exit code {result.ExitCode}): {result.Output.Trim()}{LogTail()}");
        }
    }

    /// <summary>Stops the cluster under <paramref name="directory"/> if it runs; true when it was running.</summary>
    public static async Task<bool> StopIfRunningAsync(string directory, CancellationToken cancellationToken = default)
    {
        directory = Path.GetFullPath(directory);
        if (!File.Exists(Path.Combine(directory, "data", "PG_VERSION")))
        {
            return false;
        }

        var cluster = new LocalPostgresCluster(directory, ChooseSocketDirectory(directory), durable: true);
        var running = await cluster.IsRunningAsync(FindExecutable("pg_ctl"), Environment.IsPrivilegedProcess, cancellationToken).ConfigureAwait(false);
        if (running)
        {
            await cluster.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        return running;
    }

    /// <summary>
    /// Stops the cluster under <paramref name="directory"/> at once if it runs (<c>pg_ctl stop -m immediate</c>:
    /// its data is about to go) and deletes the directory, with its socket directory. For throwaway clusters.
    /// </summary>
    public static async Task DestroyAsync(string directory, CancellationToken cancellationToken = default)
    {
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            return;
        }

        var cluster = new LocalPostgresCluster(directory, ChooseSocketDirectory(directory), durable: false);
        var pgCtl = FindExecutable("pg_ctl");
        var asServiceUser = Environment.IsPrivilegedProcess;
        if (await cluster.IsRunningAsync(pgCtl, asServiceUser, cancellationToken).ConfigureAwait(false))
        {
            await RunAsync(pgCtl, ["stop", "-D", cluster.DataDirectory, "-m", "immediate", "-w", "-t", "60"], directory, asServiceUser, cancellationToken)
                .ConfigureAwait(false);
        }

        System.IO.Directory.Delete(directory, recursive: true);
        if (System.IO.Directory.Exists(cluster.SocketDirectory))
        {
            System.IO.Directory.Delete(cluster.SocketDirectory, recursive: true);
        }
    }

    /// <summary>Does not stop the server: the cluster persists. Call <see cref="StopAsync"/> to stop it.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string BuildConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = SocketDirectory,
        Port = Port,
        Username = ServiceUser,
        Database = database,
        Pooling = true,
        MinPoolSize = 0,
        MaxPoolSize = 20,
        ConnectionIdleLifetime = 60,
        Timeout = 15,
    }.ConnectionString;

    private async Task InitAsync(string initdb, bool asServiceUser, CancellationToken cancellationToken)
    {
        // initdb into a scratch directory and rename: a crash mid-initdb never leaves a half-made "data".
        var scratch = Path.Combine(Directory, "data.initdb");
        if (System.IO.Directory.Exists(scratch))
        {
            System.IO.Directory.Delete(scratch, recursive: true);
        }

        if (System.IO.Directory.Exists(DataDirectory) && System.IO.Directory.EnumerateFileSystemEntries(DataDirectory).Any())
        {
            throw new InvalidOperationException($"{DataDirectory} is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away or delete it.");
        }

        List<string> arguments = ["-D", scratch, "-U", ServiceUser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"];
        if (!Durable)
        {
            arguments.Add("--no-sync");
        }

        var result = await RunAsync(initdb, arguments, Directory, asServiceUser, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"initdb failed (exit code {result.ExitCode}): {result.Output.Trim()}");
        }

        if (System.IO.Directory.Exists(DataDirectory))
        {
            System.IO.Directory.Delete(DataDirectory);
        }

        System.IO.Directory.Move(scratch, DataDirectory);
    }

    private async Task StartServerAsync(string pgCtl, bool asServiceUser, CancellationToken cancellationToken)
    {
        // pg_ctl hands -o to /bin/sh: the socket directory is chosen so that it needs no quoting (see ChooseSocketDirectory).
        var options = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"-k {SocketDirectory} -p {Port} -c listen_addresses='' -c max_connections=200");
        if (!Durable)
        {
            options.Append(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }

        var result = await RunAsync(
                pgCtl,
                ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "120", "-o", options.ToString()],
                Directory,
                asServiceUser,
                cancellationToken)
            .ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL did not start (pg_ctl exit code {result.ExitCode}): {result.Output.Trim()}{LogTail()}");
        }
    }

    private async Task<bool> IsRunningAsync(string pgCtl, bool asServiceUser, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            return false;
        }

        // pg_ctl status: 0 running, 3 not running, 4 no accessible data directory.
        var result = await RunAsync(pgCtl, ["status", "-D", DataDirectory], Directory, asServiceUser, cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0;
    }

    private async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                var probe = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 };
                await using var connection = new NpgsqlConnection(probe.ConnectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (NpgsqlException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
        }

        return false;
    }

    private string LogTail()
    {
        try
        {
            if (!File.Exists(LogFile))
            {
                return string.Empty;
            }

            var lines = File.ReadLines(LogFile).TakeLast(20).ToList();
            return lines.Count == 0 ? string.Empty : $"{Environment.NewLine}Server log ({LogFile}), last lines:{Environment.NewLine}{string.Join(Environment.NewLine, lines)}";
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    /// <summary>
    /// The socket lives in <c>directory/run</c> unless that path is too long for a Unix socket (108 bytes with
    /// the NUL) or holds characters that would need quoting in pg_ctl's shell command line; then it lives in a
    /// short directory under /tmp named after a hash of <paramref name="directory"/>, so every process that opens
    /// the same cluster finds the same socket.
    /// </summary>
    private static string ChooseSocketDirectory(string directory)
    {
        var preferred = Path.Combine(directory, "run");
        if (IsShellSafe(preferred) && Encoding.UTF8.GetByteCount(Path.Combine(preferred, $".s.PGSQL.{Port}")) < MaxSocketPathBytes)
        {
            return preferred;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(directory)))[..16];
        return Path.Combine("/tmp", $"dataprocess-pg-{hash}");
    }

    private static bool IsShellSafe(string path) =>
        path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-');

    /// <summary>The postgres user must be able to reach its directory: every ancestor needs o+x (or to be owned by it).</summary>
    private static void EnsureTraversable(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        for (var current = Path.GetDirectoryName(directory); current is not null; current = Path.GetDirectoryName(current))
        {
            var mode = File.GetUnixFileMode(current);
            if ((mode & UnixFileMode.OtherExecute) == 0)
            {
                throw new InvalidOperationException(
                    $"The postgres system user cannot reach {directory}: {current} is not traversable by others (mode {Convert.ToString((int)mode, 8)}). " +
                    $"Run 'chmod o+x {current}', put the cluster elsewhere, or set {LocalDatabase.ConnectionVariable} to a connection string.");
            }
        }
    }

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        // FileShare.None takes an exclusive advisory lock (flock) on Unix; it is released when the stream closes,
        // also when the process dies. Another process holding it makes the open fail at once: poll.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (deadline.Elapsed < LockTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static string FindExecutable(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{name} not found on PATH; install the PostgreSQL server or set {LocalDatabase.ConnectionVariable}.", name);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName, IReadOnlyList<string> arguments, string workingDirectory, bool asServiceUser, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo
        {
            FileName = asServiceUser ? "runuser" : fileName,
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asServiceUser)
        {
            foreach (var argument in (string[])["-u", ServiceUser, "--", fileName])
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {startInfo.FileName}.");
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException(
                $"Could not run {startInfo.FileName}{(asServiceUser ? " (needed to run PostgreSQL as the postgres user when running as root)" : string.Empty)}: {exception.Message}",
                exception);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            var output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
            return (process.ExitCode, output);
        }
    }
}
