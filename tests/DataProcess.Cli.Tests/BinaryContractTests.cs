using System.Diagnostics;
using DataProcess.Testing;

namespace DataProcess.Cli.Tests;

/// <summary>The built <c>dataprocess</c> binary as a shell sees it: exit codes and what goes to stdout and stderr.</summary>
public sealed class BinaryContractTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dp-bin-").FullName;

    [Theory]
    [InlineData("generate", "--size-mb", "0", "--out", "x.json")]
    [InlineData("generate", "--records", "0", "--out", "x.json")]
    [InlineData("generate", "--out", "x.json")]
    [InlineData("runs", "--status", "done")]
    [InlineData("run")]
    [InlineData("no-such-command")]
    public async Task A_usage_error_exits_2_with_an_error_line_on_stderr_and_nothing_on_stdout(params string[] args)
    {
        var run = await DataprocessAsync(args);

        run.ExitCode.Should().Be(2, run.Error);
        run.Output.Should().BeEmpty();
        run.Error.Should().StartWith("error: ").And.Contain("usage: dataprocess --help");
        File.Exists(Path.Combine(_directory, "x.json")).Should().BeFalse("nothing is half-written");
    }

    [Fact]
    public async Task A_bare_dataprocess_prints_usage_naming_the_commands_and_exits_2()
    {
        var run = await DataprocessAsync();

        run.ExitCode.Should().Be(2);
        run.Error.Should().Contain("usage: dataprocess --help");
    }

    [Fact]
    public async Task Version_prints_the_version_on_stdout_and_exits_0()
    {
        var run = await DataprocessAsync("--version");

        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Trim().Should().MatchRegex(@"^\d+\.\d+\.\d+");
        run.Error.Should().BeEmpty();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Output, string Error)> DataprocessAsync(params string[] args)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
        start.ArgumentList.Add(Repository.File($"src/DataProcess.Cli/bin/{configuration}/net10.0/dataprocess.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DATAPROCESS_LOCAL_DIR"] = Path.Combine(_directory, ".local");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
