using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

internal sealed record CliResult(string Stdout, string Stderr);

internal static class Cli
{
    /// <summary>
    /// Runs a program (a .dll through dotnet) to its end; a non-zero exit throws with its output. The database goes in
    /// <c>DATAPROCESS_DATABASE</c>, as `dataprocess run` takes it; <paramref name="stdin"/>, when given, is written to
    /// its standard input (the peer reads its connection string there, so it is in neither argv nor the environment).
    /// </summary>
    public static async Task<CliResult> RunAsync(string program, string[] arguments, string? database, string? stdin = null, Action? started = null)
    {
        var dll = program.EndsWith(".dll", StringComparison.Ordinal);
        var start = new ProcessStartInfo(dll ? "dotnet" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        if (dll)
        {
            start.ArgumentList.Add(program);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (database is not null)
        {
            start.Environment["DATAPROCESS_DATABASE"] = database;
        }

        using var process = Process.Start(start)!;
        started?.Invoke();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteLineAsync(stdin);
            process.StandardInput.Close();
        }

        await process.WaitForExitAsync();
        var result = new CliResult(await stdout, await stderr);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{result.Stdout}\n{result.Stderr}");
        }

        return result;
    }
}

/// <summary>A process measured by <c>/usr/bin/time -v</c>: the same instrument for `dataprocess run` and the peer.</summary>
internal sealed record Measured(string Stdout, double WallSeconds, double RssMiB, string Cpu)
{
    public static async Task<Measured> RunAsync(string[] command, string? database, string? stdin = null, Action? started = null)
    {
        var run = await Cli.RunAsync("/usr/bin/time", ["-v", .. command], database, stdin, started);
        return new Measured(
            run.Stdout,
            TimeOutput.WallSeconds(run.Stderr),
            long.Parse(TimeOutput.Field(run.Stderr, "Maximum resident set size (kbytes)"), CultureInfo.InvariantCulture) / 1024.0,
            TimeOutput.Field(run.Stderr, "Percent of CPU this job got").TrimEnd('%'));
    }

    /// <summary>The last line of standard output: both programs end with a one-line JSON summary.</summary>
    public string LastLine => Stdout.Trim().Split('\n')[^1];
}

internal static class TimeOutput
{
    public static string Field(string output, string name) =>
        output.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();

    public static double WallSeconds(string output)
    {
        var text = Field(output, "Elapsed (wall clock) time (h:mm:ss or m:ss)");
        var seconds = 0.0;
        foreach (var part in text.Split(':'))
        {
            seconds = (seconds * 60) + double.Parse(part, CultureInfo.InvariantCulture);
        }

        return seconds;
    }
}

internal static class Machine
{
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    public static string Memory()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = long.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture);
        return $"{kib / 1024.0 / 1024.0:0.0} GiB";
    }

    public static string Cpu()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        return $"{Environment.ProcessorCount} cores ({model})";
    }
}
