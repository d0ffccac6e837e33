namespace DataProcess.Cli.Tests;

public sealed class LocalRunClaimTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("dp-claims-").FullName;

    private string Claims => Path.Combine(_root, "runs");

    private string Staging => Path.Combine(_root, "store", "staging", "runs");

    [Fact]
    public void The_run_directories_of_dead_runs_and_their_lock_files_are_removed_and_a_live_runs_are_kept()
    {
        var live = Guid.NewGuid();
        var dead = Guid.NewGuid();
        using var claim = LocalRunClaim.Take(Claims, live);
        Stage(live);
        Stage(dead);
        File.WriteAllText(Path.Combine(Claims, $"{dead:D}.lock"), string.Empty); // what a SIGKILL leaves: a lock file nobody holds
        Directory.CreateDirectory(Path.Combine(Staging, Guid.NewGuid().ToString("D"))); // an empty run directory

        LocalRunClaim.RemoveAbandoned(Claims, Staging);

        Directory.EnumerateDirectories(Staging).Select(Path.GetFileName).Should().Equal(live.ToString("D"));
        File.Exists(Path.Combine(Staging, live.ToString("D"), "out.ndjson.1.partial")).Should().BeTrue();
        Directory.EnumerateFiles(Claims).Select(Path.GetFileName).Should().Equal($"{live:D}.lock");
    }

    [Fact]
    public void A_claim_is_released_and_its_lock_file_deleted_when_the_run_ends()
    {
        var run = Guid.NewGuid();
        using (LocalRunClaim.Take(Claims, run))
        {
            File.Exists(Path.Combine(Claims, $"{run:D}.lock")).Should().BeTrue();
        }

        File.Exists(Path.Combine(Claims, $"{run:D}.lock")).Should().BeFalse();
        Stage(run);
        LocalRunClaim.RemoveAbandoned(Claims, Staging);
        Directory.Exists(Staging).Should().BeFalse("the run ended, and the staging directory was left empty");
    }

    [Fact]
    public void Nothing_to_clean_is_fine()
    {
        var act = () => LocalRunClaim.RemoveAbandoned(Claims, Staging);

        act.Should().NotThrow();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Stage(Guid run)
    {
        var directory = Directory.CreateDirectory(Path.Combine(Staging, run.ToString("D"))).FullName;
        File.WriteAllText(Path.Combine(directory, "out.ndjson.1.partial"), "{");
    }
}
