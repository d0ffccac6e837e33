namespace DataProcess.Cli;

/// <summary>
/// A local run's claim on its staging directory: the file <c>runs/&lt;run&gt;.lock</c> under the local directory, held
/// open exclusively (an advisory <c>flock</c> on Unix) while the run lives and deleted when it closes. A process that
/// is killed outright (SIGKILL, a crash, a power cut) leaves its staging directory — partial outputs and all — and
/// its lock file behind, but no holder: the next run's start removes both. A run in another process on the same
/// local directory keeps its claim, so its files are never touched.
/// </summary>
internal sealed class LocalRunClaim : IDisposable
{
    private readonly FileStream _lock;

    private LocalRunClaim(FileStream lockFile) => _lock = lockFile;

    /// <summary>Claims <paramref name="runId"/>'s staging directory; take it before the run writes anything.</summary>
    public static LocalRunClaim Take(string claimsDirectory, Guid runId)
    {
        Directory.CreateDirectory(claimsDirectory);
        return new LocalRunClaim(new FileStream(LockFile(claimsDirectory, runId), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose));
    }

    /// <summary>
    /// Removes what dead runs left: each run directory under <paramref name="stagingDirectory"/> whose run holds no
    /// claim, the lock files nobody holds, and the staging directory itself once empty.
    /// </summary>
    public static void RemoveAbandoned(string claimsDirectory, string stagingDirectory)
    {
        if (Directory.Exists(stagingDirectory))
        {
            foreach (var directory in Directory.EnumerateDirectories(stagingDirectory))
            {
                if (Guid.TryParse(Path.GetFileName(directory), out var runId) && !IsHeld(LockFile(claimsDirectory, runId)))
                {
                    TryDelete(() => Directory.Delete(directory, recursive: true));
                }
            }

            TryDelete(() => Directory.Delete(stagingDirectory)); // only when empty
        }

        if (Directory.Exists(claimsDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(claimsDirectory, "*.lock"))
            {
                if (!IsHeld(file))
                {
                    TryDelete(() => File.Delete(file));
                }
            }
        }
    }

    public void Dispose() => _lock.Dispose();

    private static string LockFile(string claimsDirectory, Guid runId) => Path.Combine(claimsDirectory, $"{runId:D}.lock");

    /// <summary>Whether a live run holds the lock: opening it exclusively fails only then.</summary>
    private static bool IsHeld(string lockFile)
    {
        try
        {
            using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not empty, or taken by a run that just started: the next start looks again.
        }
    }
}
