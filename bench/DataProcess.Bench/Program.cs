// `make bench`: the benchmark matrix. For each size (10 MB, 50 MB, 200 MB, 1 GB by default) it generates (and
// caches) the deterministic customer file and its pretty-printed copy, then runs `dataprocess run` (the CLI, as
// users run it, under /usr/bin/time -v) for every profile × layout cell against a fresh database, watching for the
// first staged bytes and the first COPYed row; it measures the sink limit (a binary COPY of the very rows the run
// loaded into an empty table of the same shape) and the parse limit (Utf8JsonReader alone), runs the plain-Python
// peer on the same file and server and checks that it loaded the same rows, and rewrites the generated section of
// BENCHMARKS.md.
using System.Diagnostics;
using System.Globalization;

var options = BenchOptions.Parse(args);
var root = Directory.GetCurrentDirectory();
var cli = Path.Combine(root, "src/DataProcess.Cli/bin/Release/net10.0/dataprocess.dll");
var cells = BenchPlan.Cells(options);
if (options.DryRun)
{
    var plan = Report.Render(ReportData.Planned(options, cells));
    Console.WriteLine(plan);
    Report.Write(Path.Combine(root, options.Out), plan);
    return 0;
}

if (!File.Exists(cli))
{
    Console.Error.WriteLine($"error: {cli} is missing; run `make build` first");
    return 1;
}

var benchDir = Path.Combine(root, ".local/bench");
Directory.CreateDirectory(benchDir);
var context = new BenchContext(root, cli, benchDir, Path.Combine(benchDir, "hmac.key"));
if (!File.Exists(context.KeyFile))
{
    await Cli.RunAsync(cli, ["keygen", "--out", context.KeyFile], null);
}

var server = Environment.GetEnvironmentVariable("DATAPROCESS_DATABASE") is { Length: > 0 } configured
    ? configured
    : (await Cli.RunAsync(cli, ["db", "start", "--local-dir", Path.Combine(root, ".local")], null)).Stdout.Trim().Split('\n')[^1];

var data = new ReportData(options, cells)
{
    PostgresVersion = await Database.ScalarAsync(server, "SHOW server_version"),
    LoadAtStart = Machine.LoadAverage(),
    PeerProblem = options.PeerSizes.Length > 0 && options.PeerProfiles.Length > 0 ? await Peer.UnavailableAsync(options.Python) : null,
};
if (data.PeerProblem is not null)
{
    Console.WriteLine($"peer skipped: {data.PeerProblem}");
}

var clock = Stopwatch.StartNew();
Console.WriteLine($"{cells.Count} cells, sizes {string.Join(", ", options.Sizes)} MB; {options.Repeat} runs per cell below {BenchOptions.RepeatBelowMb} MB");

// The fixed cost: a run of one record, which every cell pays whatever its size.
var floorInput = await Input.EnsureRecordsAsync(cli, benchDir, 1, options.Seed);
var heavy = BenchProfile.Named(BenchProfile.Heavy);
for (var i = 0; i < options.Repeat; i++)
{
    await using var database = await BenchDatabase.CreateAsync(server, "floor");
    var run = await CellRunner.RunAsync(context, floorInput, heavy, database);
    data.Floor.Add(run);
    Progress($"one record, heavy, run {i + 1}/{options.Repeat}: {run.Process.WallSeconds:0.00} s, {run.Process.RssMiB:0} MiB");
}

foreach (var size in options.Sizes)
{
    var compactInput = await Input.EnsureAsync(cli, benchDir, size, options.Seed);
    var prettyInput = cells.Any(c => c.SizeMb == size && c.Layout == Layout.Pretty) ? Input.EnsurePretty(compactInput) : null;
    var parse = Math.Max(ParseLimit.MeasureMBps(compactInput), ParseLimit.MeasureMBps(compactInput));
    data.ParseLimits[size] = parse;
    Progress($"{size} MB: {compactInput} (parse limit {parse:0} MB/s)");
    foreach (var cell in cells.Where(c => c.SizeMb == size))
    {
        var input = cell.Layout == Layout.Compact ? compactInput : prettyInput!;
        var repeats = options.RepeatsAt(size);
        var runs = new List<CellRun>();
        double? sink = null;
        for (var i = 0; i < repeats; i++)
        {
            await using var database = await BenchDatabase.CreateAsync(server, cell.Label);
            var run = await CellRunner.RunAsync(context, input, cell.Profile, database);
            runs.Add(run);
            Progress($"{size} MB {cell.Profile.Name} {cell.Layout.ToString().ToLowerInvariant()} run {i + 1}/{repeats}: {run.Process.WallSeconds:0.00} s, "
                + $"{run.SourceRecords:N0} records, {run.Process.RssMiB:0} MiB, first staged {Seconds(run.FirstStaged)}, first row COPYed {Seconds(run.FirstCopied)}");
            if (i < repeats - 1)
            {
                continue;
            }

            // The pretty copy loads the very rows of the compact one (the differential harness holds that), so its
            // sink limit is the compact cell's.
            if (cell.Layout == Layout.Compact)
            {
                sink = await Database.SinkLimitAsync(database.ConnectionString, Path.Combine(benchDir, $"records-{Guid.NewGuid():N}.bin"));
                Progress($"   sink limit {sink:0.00} s");
            }

            if (options.PeerRuns(size, cell.Profile, cell.Layout) && data.PeerProblem is null)
            {
                data.Peers.Add(await RunPeerAsync(cell, input, repeats, database));
            }
        }

        sink ??= data.Results.FirstOrDefault(r => r.Cell == cell with { Layout = Layout.Compact })?.SinkSeconds;
        data.Results.Add(new CellResult(cell, new FileInfo(input).Length, runs, sink));
    }
}

data.LoadAtEnd = Machine.LoadAverage();
Progress("done");
var report = Report.Render(data);
Console.WriteLine(report);
Report.Write(Path.Combine(root, options.Out), report);
var raw = Path.Combine(benchDir, "last-run.json");
await File.WriteAllTextAsync(raw, Report.Raw(data));
Console.WriteLine($"every run's figures: {raw}");
return 0;

async Task<PeerResult> RunPeerAsync(Cell cell, string input, int repeats, BenchDatabase ours)
{
    var runs = new List<PeerRun>();
    RowCheck? check = null;
    for (var i = 0; i < repeats; i++)
    {
        await using var database = await BenchDatabase.CreateAsync(server, $"{cell.Label}_peer");
        var run = await Peer.RunAsync(context, options.Python, input, cell.Profile, database);
        runs.Add(run);
        Progress($"   peer run {i + 1}/{repeats}: {run.Process.WallSeconds:0.00} s, {run.Records:N0} rows, {run.Process.RssMiB:0} MiB");
        if (i == repeats - 1)
        {
            check = await Database.CompareAsync(ours.ConnectionString, database.ConnectionString, Path.Combine(benchDir, $"peer-{Guid.NewGuid():N}.bin"));
            Progress($"   peer rows against ours: {check}");
        }
    }

    return new PeerResult(cell, runs, check);
}

void Progress(string line) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed:mm\\:ss}] {line}"));

static string Seconds(double? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.00} s") : "not seen";

internal sealed record BenchContext(string Root, string Cli, string BenchDir, string KeyFile);

internal static class BenchPlan
{
    /// <summary>The cells in the order they run: size, then profile, then compact before pretty.</summary>
    public static List<Cell> Cells(BenchOptions options) =>
    [
        .. from size in options.Sizes
           from profile in BenchProfile.All
           from layout in new[] { Layout.Compact, Layout.Pretty }
           where options.Runs(size, profile, layout)
           select new Cell(size, profile, layout),
    ];
}
