using System.Text.Json;

/// <summary>One run of the plain-Python peer (bench/peer/plain_etl.py), in a fresh database.</summary>
internal sealed record PeerRun(Measured Process, long Records, long Rejected, long Duplicates);

/// <summary>The peer at one size and profile, next to our cell on the same file, with the loaded rows compared.</summary>
internal sealed record PeerResult(Cell Cell, IReadOnlyList<PeerRun> Runs, RowCheck? Check)
{
    public PeerRun? Median => Runs.Count == 0 ? null : Runs.OrderBy(r => r.Process.WallSeconds).ElementAt(Runs.Count / 2);
}

internal static class Peer
{
    public const string Script = "bench/peer/plain_etl.py";

    /// <summary>Null when the peer can run; otherwise why not and how to fix it, in one line.</summary>
    public static async Task<string?> UnavailableAsync(string python)
    {
        if (!File.Exists(python))
        {
            return $"{python} does not exist; `apt-get install -y python3-psycopg2` brings Debian's python3 with psycopg2";
        }

        try
        {
            await Cli.RunAsync(python, ["-c", "import psycopg2"], null);
            return null;
        }
        catch (InvalidOperationException)
        {
            return $"{python} cannot import psycopg2; `apt-get install -y python3-psycopg2` installs it for /usr/bin/python3 "
                + "(make bench does that itself when run as root), and PYTHON=/usr/bin/python3 picks that interpreter";
        }
    }

    public static async Task<PeerRun> RunAsync(BenchContext context, string python, string input, BenchProfile profile, BenchDatabase database)
    {
        var run = await Measured.RunAsync(
            [python, Path.Combine(context.Root, Script), input, "--profile", Path.Combine(context.Root, profile.RelativePath), "--key-file", context.KeyFile, "--dsn-stdin"],
            database: null,
            stdin: Database.Libpq(database.ConnectionString));
        using var document = JsonDocument.Parse(run.LastLine);
        var summary = document.RootElement;
        return new PeerRun(run, summary.GetProperty("records").GetInt64(), summary.GetProperty("rejected").GetInt64(), summary.GetProperty("duplicates").GetInt64());
    }
}
