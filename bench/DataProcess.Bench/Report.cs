using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

/// <summary>A cell's runs (several below 200 MB; the median by wall time is the one reported) and its sink limit.</summary>
internal sealed record CellResult(Cell Cell, long Bytes, IReadOnlyList<CellRun> Runs, double? SinkSeconds)
{
    public CellRun? Median => Runs.Count == 0 ? null : Runs.OrderBy(r => r.Process.WallSeconds).ElementAt(Runs.Count / 2);
}

/// <summary>Everything one `make bench` measured (or, for a dry run, only what it would run).</summary>
internal sealed class ReportData(BenchOptions options, IReadOnlyList<Cell> cells)
{
    public BenchOptions Options { get; } = options;

    public IReadOnlyList<Cell> Cells { get; } = cells;

    public bool Measured => PostgresVersion is not null;

    public string? PostgresVersion { get; init; }

    public string? LoadAtStart { get; init; }

    public string? LoadAtEnd { get; set; }

    public string? PeerProblem { get; init; }

    public List<CellRun> Floor { get; } = [];

    public Dictionary<int, double> ParseLimits { get; } = [];

    public List<CellResult> Results { get; } = [];

    public List<PeerResult> Peers { get; } = [];

    public static ReportData Planned(BenchOptions options, IReadOnlyList<Cell> cells)
    {
        var data = new ReportData(options, cells);
        data.Results.AddRange(cells.Select(c => new CellResult(c, 0, [], null)));
        data.Peers.AddRange(cells.Where(c => options.PeerRuns(c.SizeMb, c.Profile, c.Layout)).Select(c => new PeerResult(c, [], null)));
        return data;
    }

    public CellResult? Result(int sizeMb, string profile, Layout layout) =>
        Results.FirstOrDefault(r => r.Cell.SizeMb == sizeMb && r.Cell.Profile.Name == profile && r.Cell.Layout == layout && r.Runs.Count > 0);
}

internal static class Report
{
    public const string Begin = "<!-- make bench: generated, begin -->";
    public const string End = "<!-- make bench: generated, end -->";

    private const string Dash = "–";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(ReportData data)
    {
        var text = new StringBuilder();
        Header(text, data);
        EndToEnd(text, data);
        Stages(text, data);
        Layouts(text, data);
        Peers(text, data);
        Goals(text, data);
        return text.ToString();
    }

    private static void Header(StringBuilder text, ReportData data)
    {
        var o = data.Options;
        if (data.Measured)
        {
            text.AppendLine(Inv, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `make bench` (sizes {string.Join(", ", o.Sizes)} MB, seed {o.Seed}) on {Machine.Cpu()}, {Machine.Memory()}, "
                + $"{RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, PostgreSQL {data.PostgresVersion} (durable settings, same machine). "
                + $"Load average at start {data.LoadAtStart}, at the end {data.LoadAtEnd}.");
        }
        else
        {
            text.AppendLine("**Not yet run on a quiet machine.** These are the cells `make bench` runs; each fills in on the first full run.");
        }

        text.AppendLine();
        text.AppendLine(Inv, $"Cells below {BenchOptions.RepeatBelowMb} MB run {o.Repeat} times (a fresh database each time) and show the median run by wall time, with the fastest and slowest; larger cells run once. "
            + $"Profiles: {string.Join("; ", BenchProfile.All.Select(p => $"**{p.Name}** ({p.Description})"))}.");
        text.AppendLine();
        var floor = data.Floor.Count == 0 ? null : data.Floor.OrderBy(r => r.Process.WallSeconds).ElementAt(data.Floor.Count / 2);
        text.AppendLine(Inv, $"The fixed cost of a run (a file of one record, heavy profile, compact, median of {o.Repeat}): **{S(floor?.Process.WallSeconds, "0.00")} s** end to end, "
            + $"peak RSS {S(floor?.Process.RssMiB, "0")} MiB: start-up, key and profile, replay check and migration check, three stages, one transaction.");
        text.AppendLine();
        text.AppendLine("Parse limit (Utf8JsonReader alone over the compact file): "
            + string.Join(", ", o.Sizes.Select(s => $"{SizeName(s)} {S(data.ParseLimits.TryGetValue(s, out var v) ? v : null, "0")} MB/s")) + ".");
    }

    private static void EndToEnd(StringBuilder text, ReportData data)
    {
        text.AppendLine();
        text.AppendLine("**End to end** (`dataprocess run`, one process; records/s counts every source record, rejected and duplicates too):");
        text.AppendLine();
        text.AppendLine("| input | profile | layout | MB | records | end-to-end s | fastest–slowest s | records/s | MB/s | first staged s | first row COPYed s | peak RSS MiB | CPU | sink limit s | sink limit / end-to-end | load avg at start |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in data.Results)
        {
            var m = r.Median;
            var wall = m?.Process.WallSeconds;
            var spread = r.Runs.Count > 1 ? $"{r.Runs.Min(x => x.Process.WallSeconds):0.00}–{r.Runs.Max(x => x.Process.WallSeconds):0.00}" : Dash;
            text.AppendLine(Inv,
                $"| {SizeName(r.Cell.SizeMb)} | {r.Cell.Profile.Name} | {LayoutName(r.Cell.Layout)} | {S(r.Runs.Count > 0 ? r.Bytes / 1e6 : null, "0")} | {N(m?.SourceRecords)} | {S(wall, "0.00")} | {spread} "
                + $"| {N(Per(m?.SourceRecords, wall))} | {S(Per(r.Runs.Count > 0 ? r.Bytes / 1e6 : null, wall), "0.0")} | {S(m?.FirstStaged, "0.00")} | {S(m?.FirstCopied, "0.00")} "
                + $"| {S(m?.Process.RssMiB, "0")} | {(m is null ? Dash : m.Process.Cpu + "%")} | {S(m is null ? null : r.SinkSeconds, "0.00")} | {S(Per(m is null ? null : r.SinkSeconds, wall), "0.00")} | {m?.Load ?? Dash} |");
        }
    }

    private static void Stages(StringBuilder text, ReportData data)
    {
        text.AppendLine();
        text.AppendLine("**Per stage** (from the run summary's `timings`, median run; records/s = source records / the stage's seconds; enrichment and anonymization run at the same time, "
            + "consolidation after them = keys + read+merge + COPY + upsert + commit):");
        text.AppendLine();
        text.AppendLine("| input | profile | layout | enrichment records/s | anonymization records/s | consolidation records/s | enrichment s | anonymization s | keys s | read+merge s | COPY s | upsert s | commit s |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in data.Results)
        {
            var m = r.Median;
            var t = m?.Timings;
            long? records = m?.SourceRecords;
            text.AppendLine(Inv,
                $"| {SizeName(r.Cell.SizeMb)} | {r.Cell.Profile.Name} | {LayoutName(r.Cell.Layout)} | {N(Per(records, t?.Enrichment))} | {N(Per(records, t?.Anonymization))} | {N(Per(records, t?.Consolidation))} "
                + $"| {S(t?.Enrichment, "0.00")} | {S(t?.Anonymization, "0.00")} | {S(t?.Keys, "0.00")} | {S(t?.ReadMerge, "0.00")} | {S(t?.Copy, "0.00")} | {S(t?.Upsert, "0.00")} | {S(t?.Commit, "0.00")} |");
        }
    }

    private static void Layouts(StringBuilder text, ReportData data)
    {
        text.AppendLine();
        text.AppendLine("**Pretty-printed vs compact** (the same records indented by two spaces with CRLF line ends; goal: pretty ≥ 0.8× the compact records/s):");
        text.AppendLine();
        text.AppendLine("| input | profile | compact MB | pretty MB | compact records/s | pretty records/s | pretty / compact | compact peak RSS MiB | pretty peak RSS MiB |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var pretty in data.Results.Where(r => r.Cell.Layout == Layout.Pretty))
        {
            var compact = data.Results.FirstOrDefault(r => r.Cell == pretty.Cell with { Layout = Layout.Compact });
            var c = RecordsPerSecond(compact);
            var p = RecordsPerSecond(pretty);
            text.AppendLine(Inv,
                $"| {SizeName(pretty.Cell.SizeMb)} | {pretty.Cell.Profile.Name} | {S(compact?.Median is null ? null : compact.Bytes / 1e6, "0")} | {S(pretty.Median is null ? null : pretty.Bytes / 1e6, "0")} "
                + $"| {N(c)} | {N(p)} | {S(Per(p, c), "0.00")} | {S(compact?.Median?.Process.RssMiB, "0")} | {S(pretty.Median?.Process.RssMiB, "0")} |");
        }
    }

    private static void Peers(StringBuilder text, ReportData data)
    {
        text.AppendLine();
        text.AppendLine("**The plain-Python peer** (`bench/peer/plain_etl.py`: `json.load` of the whole file, `hmac` per field, psycopg2 `execute_values` upserts, one transaction; "
            + "the same compact file, profile, key and PostgreSQL server, a fresh database; its loaded rows compared with ours in SQL, jsonb equality):");
        text.AppendLine();
        if (data.PeerProblem is not null)
        {
            text.AppendLine(Inv, $"Not run: {data.PeerProblem}.");
            return;
        }

        text.AppendLine("| input | profile | records ours / peer | rejected ours / peer | ours s | peer s | peer s / ours s | ours peak RSS MiB | peer peak RSS MiB | ours / peer memory | rows |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var peer in data.Peers)
        {
            var ours = data.Results.FirstOrDefault(r => r.Cell == peer.Cell)?.Median;
            var theirs = peer.Median;
            text.AppendLine(Inv,
                $"| {SizeName(peer.Cell.SizeMb)} | {peer.Cell.Profile.Name} | {N(ours?.Records)} / {N(theirs?.Records)} | {N(ours?.Rejected)} / {N(theirs?.Rejected)} "
                + $"| {S(ours?.Process.WallSeconds, "0.00")} | {S(theirs?.Process.WallSeconds, "0.00")} | {S(Per(theirs?.Process.WallSeconds, ours?.Process.WallSeconds), "0.0×")} "
                + $"| {S(ours?.Process.RssMiB, "0")} | {S(theirs?.Process.RssMiB, "0")} | {S(Per(ours?.Process.RssMiB, theirs?.Process.RssMiB), "0.00")} | {peer.Check?.ToString() ?? Dash} |");
        }
    }

    /// <summary>The issue's goals, judged on the cells above; a goal whose cells did not run says so.</summary>
    private static void Goals(StringBuilder text, ReportData data)
    {
        text.AppendLine();
        text.AppendLine("**Goals** (heavy profile):");
        text.AppendLine();
        text.AppendLine("| goal | measured | met |");
        text.AppendLine("|---|---|---|");

        var ours50 = data.Result(50, BenchProfile.Heavy, Layout.Compact)?.Median;
        var peer50 = data.Peers.FirstOrDefault(p => p.Cell.SizeMb == 50 && p.Cell.Profile.Name == BenchProfile.Heavy)?.Median;
        var speedUp = Per(peer50?.Process.WallSeconds, ours50?.Process.WallSeconds);
        var memory = Per(ours50?.Process.RssMiB, peer50?.Process.RssMiB);
        Goal("50 MB end to end ≥ 5× faster than the peer, at ≤ 1/4 of its memory",
            speedUp is null ? null : $"{speedUp:0.0}× faster, {memory:0.00} of its memory", speedUp >= 5 && memory <= 0.25);

        foreach (var size in new[] { 200, BenchOptions.FullSizeMb })
        {
            var r = data.Result(size, BenchProfile.Heavy, Layout.Compact);
            var ratio = Per(r?.SinkSeconds, r?.Median?.Process.WallSeconds);
            Goal($"sink limit / end-to-end ≥ 0.5 at {SizeName(size)}", ratio is null ? null : $"{ratio:0.00}", ratio >= 0.5);
        }

        var layoutRatios = data.Options.Sizes
            .Select(s => Per(RecordsPerSecond(data.Result(s, BenchProfile.Heavy, Layout.Pretty)), RecordsPerSecond(data.Result(s, BenchProfile.Heavy, Layout.Compact))))
            .OfType<double>().ToList();
        Goal("pretty-printed ≥ 0.8× the compact records/s, at every size",
            layoutRatios.Count == 0 ? null : $"lowest {layoutRatios.Min():0.00} ({layoutRatios.Count} sizes)", layoutRatios.Count > 0 && layoutRatios.Min() >= 0.8);

        var cell50 = data.Result(50, BenchProfile.Heavy, Layout.Compact);
        var stageMBps = new[] { ours50?.Timings.Enrichment, ours50?.Timings.Anonymization }
            .Select(seconds => Per(cell50 is null ? null : cell50.Bytes / 1e6, seconds)).OfType<double>().ToList();
        Goal("no stage slower than 25 MB/s at 50 MB (the two stages share the two cores here: not a one-core figure)",
            stageMBps.Count == 0 ? null : $"slowest {stageMBps.Min():0.0} MB/s", stageMBps.Count > 0 && stageMBps.Min() >= 25);

        var rss = data.Options.Sizes.Where(s => s >= 50)
            .Select(s => data.Result(s, BenchProfile.Heavy, Layout.Compact)?.Median?.Process.RssMiB).OfType<double>().ToList();
        Goal("memory flat from 50 MB to 1 GB: largest / smallest peak RSS ≤ 1.1 and ≤ 121 MiB (today's bar: 114–121 MiB)",
            rss.Count < 2 ? null : $"{rss.Min():0}–{rss.Max():0} MiB ({rss.Max() / rss.Min():0.00}×)", rss.Count >= 2 && rss.Max() / rss.Min() <= 1.1 && rss.Max() <= 121);

        void Goal(string goal, string? measured, bool met) =>
            text.AppendLine(Inv, $"| {goal} | {measured ?? "not measured"} | {(measured is null ? Dash : met ? "yes" : "no")} |");
    }

    private static double? RecordsPerSecond(CellResult? result) => result?.Median is { } m ? Per(m.SourceRecords, m.Process.WallSeconds) : null;

    private static double? Per(double? amount, double? seconds) => amount is { } a && seconds is > 0 ? a / seconds.Value : null;

    private static string S(double? value, string format) => value is { } v ? v.ToString(format, Inv) : Dash;

    private static string N(double? value) => value is { } v ? v.ToString("N0", Inv) : Dash;

    private static string SizeName(int sizeMb) => sizeMb >= 1000 && sizeMb % 1000 == 0 ? $"{sizeMb / 1000} GB" : $"{sizeMb} MB";

    private static string LayoutName(Layout layout) => layout == Layout.Compact ? "compact" : "pretty";

    /// <summary>Every run of every cell (not only the medians), as JSON, for a closer look than the tables give.</summary>
    public static string Raw(ReportData data) => JsonSerializer.Serialize(
        new
        {
            data.Options.Seed,
            data.LoadAtStart,
            data.LoadAtEnd,
            floor = data.Floor.Select(Run),
            parseLimits = data.ParseLimits,
            cells = data.Results.Select(r => new { r.Cell.SizeMb, profile = r.Cell.Profile.Name, layout = LayoutName(r.Cell.Layout), r.Bytes, r.SinkSeconds, runs = r.Runs.Select(Run) }),
            peers = data.Peers.Select(p => new
            {
                p.Cell.SizeMb,
                profile = p.Cell.Profile.Name,
                rows = p.Check?.ToString(),
                runs = p.Runs.Select(x => new { x.Process.WallSeconds, x.Process.RssMiB, x.Process.Cpu, x.Records, x.Rejected, x.Duplicates }),
            }),
        },
        new JsonSerializerOptions { WriteIndented = true });

    private static object Run(CellRun run) => new
    {
        run.Process.WallSeconds,
        run.Process.RssMiB,
        run.Process.Cpu,
        run.Records,
        run.Rejected,
        run.Duplicates,
        run.FirstStaged,
        run.FirstCopied,
        run.Timings,
        run.Load,
    };

    public static void Write(string path, string table)
    {
        var section = $"{Begin}\n{table}{End}";
        var existing = File.Exists(path) ? File.ReadAllText(path) : $"# Benchmarks\n\n## Latest `make bench`\n\n{Begin}\n{End}\n";
        var begin = existing.IndexOf(Begin, StringComparison.Ordinal);
        var end = existing.IndexOf(End, StringComparison.Ordinal);
        var updated = begin >= 0 && end > begin
            ? string.Concat(existing.AsSpan(0, begin), section, existing.AsSpan(end + End.Length))
            : existing.TrimEnd() + "\n\n## Latest `make bench`\n\n" + section + "\n";
        File.WriteAllText(path, updated);
    }
}
