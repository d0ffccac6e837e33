using System.Security.Cryptography;
using System.Text;
using DataProcess.Testing;
using Spectre.Console;

namespace DataProcess.Cli.Tests;

public sealed class RunCommandTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dp-cli-").FullName;
    private readonly string _key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task Runs_the_bundled_sample_and_prints_the_summary()
    {
        var database = await postgres.CreateDatabaseAsync();

        var run = await RunAsync(database, "run", Repository.File("samples/customers.json"), "--profile", Repository.File("profiles/customers.json"));

        run.ExitCode.Should().Be(0, run.Error);
        run.Error.Should().BeEmpty();
        var summary = Summary(run.Output);
        summary["status"].Should().Be("succeeded");
        summary["dataset"].Should().Be("customers");
        var records = long.Parse(summary["records"], System.Globalization.CultureInfo.InvariantCulture);
        records.Should().BeGreaterThan(4000);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(records);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT rejected FROM dataprocess.runs")).Should().Be(long.Parse(summary["rejected"], System.Globalization.CultureInfo.InvariantCulture));
        summary.Should().ContainKeys("run", "duplicates", "seconds", "MB/s");
    }

    [Fact]
    public async Task Running_the_same_file_again_is_skipped_with_exit_code_zero()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = Input("small.json", """[{"id":1,"email":"a@example.org"},{"id":2,"email":"b@example.org"}]""");
        var profile = Input("profile.json", """{"dataset":"people","id":"id","anonymize":{"email":"hash"}}""");

        var first = await RunAsync(database, "run", input, "--profile", profile);
        var second = await RunAsync(database, "run", input, "--profile", profile, "--json");

        first.ExitCode.Should().Be(0, first.Error);
        second.ExitCode.Should().Be(0, second.Error);
        second.Output.Should().Contain("\"status\":\"skipped\"");
        var third = await RunAsync(database, "run", input, "--profile", profile);
        third.Output.Should().Contain("MB/s:       - (already loaded;");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(status, ',' ORDER BY started_at) FROM dataprocess.runs")).Should().Be("succeeded,skipped,skipped");
    }

    [Fact]
    public async Task A_malformed_file_exits_1_with_one_error_line_and_a_failed_ledger_row()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = Input("broken.json", "[{\"id\":1,\"email\":\"a@example.org\"},\n{\"id\":2,\"email\":\"secret@example.org\"\n{\"id\":3}]");
        var profile = Input("profile.json", """{"dataset":"people","id":"id","anonymize":{"email":"hash"}}""");

        var run = await RunAsync(database, "run", input, "--profile", profile);

        run.ExitCode.Should().Be(1);
        run.Error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().StartWith("error: broken.json: malformed JSON at line 3, column 1");
        run.Error.Should().NotContain("secret@example.org").And.NotContain("   at ");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT status || ': ' || error FROM dataprocess.runs")).Should().StartWith("failed: broken.json: malformed JSON at line 3");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
    }

    [Fact]
    public async Task A_bad_profile_is_refused_before_anything_is_recorded()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = Input("small.json", """[{"id":1}]""");
        var profile = Input("profile.json", """{"dataset":"people","id":"id","anonymize":{"email":"hsah"}}""");

        var run = await RunAsync(database, "run", input, "--profile", profile);

        run.ExitCode.Should().Be(1);
        run.Error.Should().StartWith("error: profile profile.json: anonymize.email: unknown method 'hsah'");
        (await PostgresFixture.ScalarAsync<bool>(database, "SELECT to_regclass('dataprocess.runs') IS NULL")).Should().BeTrue("nothing touched the database");
    }

    [Fact]
    public async Task A_missing_key_is_refused_before_reading()
    {
        var input = Input("small.json", """[{"id":1}]""");
        var profile = Input("profile.json", """{"dataset":"people","id":"id"}""");

        var run = await RunWithKeyAsync(await postgres.CreateDatabaseAsync(), key: null, "run", input, "--profile", profile);

        run.ExitCode.Should().Be(1);
        run.Error.Should().StartWith("error: no HMAC key: pass --key-file FILE or set DATAPROCESS_HMAC_KEY");
    }

    [Fact]
    public async Task A_key_shorter_than_32_bytes_is_refused()
    {
        var input = Input("small.json", """[{"id":1}]""");
        var profile = Input("profile.json", """{"dataset":"people","id":"id"}""");
        var keyFile = Input("short.key", Convert.ToBase64String(new byte[16]));

        var run = await RunWithKeyAsync(await postgres.CreateDatabaseAsync(), key: null, "run", input, "--profile", profile, "--key-file", keyFile);

        run.ExitCode.Should().Be(1);
        run.Error.Should().Contain("the HMAC key is 16 bytes; at least 32 are required");
    }

    [Fact]
    public async Task A_missing_input_file_is_named()
    {
        var run = await RunAsync(await postgres.CreateDatabaseAsync(), "run", Path.Combine(_directory, "nope.json"), "--profile", Input("p.json", "{}"));

        run.ExitCode.Should().Be(1);
        run.Error.Should().StartWith("error: ").And.Contain("nope.json: no such file");
    }

    [Theory]
    [InlineData]
    [InlineData("run")]
    [InlineData("run", "x.json")]
    [InlineData("frobnicate")]
    [InlineData("run", "x.json", "--profile", "p.json", "--bogus")]
    public async Task Usage_errors_exit_with_2(params string[] args)
    {
        var run = await RunAsync("Host=unused", args);

        run.ExitCode.Should().Be(2);
        run.Error.Should().StartWith("error: ");
    }

    [Fact]
    public async Task Keygen_writes_a_usable_key_once()
    {
        var path = Path.Combine(_directory, "keys", "hmac.key");

        (await RunAsync("Host=unused", "keygen", "--out", path)).ExitCode.Should().Be(0);
        var first = await File.ReadAllTextAsync(path);
        (await RunAsync("Host=unused", "keygen", "--out", path)).Output.Should().Contain("exists; kept");

        (await File.ReadAllTextAsync(path)).Should().Be(first);
        Convert.FromBase64String(first.Trim()).Should().HaveCount(32);
        File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact]
    public async Task Runs_lists_the_ledger_newest_first_filtered_by_dataset_and_status_as_text_or_json_lines()
    {
        var database = await postgres.CreateDatabaseAsync();
        await RunAsync(database, "run", Repository.File("samples/orders.ndjson"), "--profile", Repository.File("profiles/orders.json"));
        await RunAsync(database, "run", Input("broken.json", "{\"result\":[{\"id\":"), "--profile", Repository.File("profiles/customers.json"));

        var all = await RunAsync(database, "runs");
        var orders = await RunAsync(database, "runs", "--dataset", "orders", "--json");
        var failed = await RunAsync(database, "runs", "--status", "failed", "--json");
        var one = await RunAsync(database, "runs", "--limit", "1", "--json");

        all.ExitCode.Should().Be(0, all.Error);
        var lines = all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(3, "a header and two runs");
        lines[1].Should().Contain("customers").And.Contain("failed").And.Contain("broken.json");
        lines[2].Should().Contain("orders").And.Contain("succeeded");
        var order = System.Text.Json.Nodes.JsonNode.Parse(orders.Output.Trim())!;
        order["dataset"]!.GetValue<string>().Should().Be("orders");
        order["status"]!.GetValue<string>().Should().Be("succeeded");
        order["rejected"]!.GetValue<long>().Should().Be(1);
        order["error"].Should().BeNull();
        order["runId"]!.GetValue<string>().Should().Be((await PostgresFixture.ScalarAsync<Guid>(database, "SELECT run_id FROM dataprocess.runs WHERE dataset = 'orders'")).ToString("D"));
        var failure = System.Text.Json.Nodes.JsonNode.Parse(failed.Output.Trim())!;
        failure["error"]!.GetValue<string>().Should().StartWith("broken.json: ").And.NotContain("Exception");
        one.Output.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("\"dataset\":\"customers\"");
    }

    [Theory]
    [InlineData("runs", "--status", "done")]
    [InlineData("runs", "--limit", "0")]
    [InlineData("rejects", "not-a-run-id")]
    public async Task A_bad_filter_or_run_id_is_a_usage_error(params string[] args)
    {
        var run = await RunAsync(await postgres.CreateDatabaseAsync(), args);

        run.ExitCode.Should().Be(2, run.Error);
        run.Output.Should().BeEmpty();
        run.Error.Should().StartWith("error: ");
    }

    [Fact]
    public async Task Rejects_lists_a_runs_rejected_records_by_index_id_and_reason()
    {
        var database = await postgres.CreateDatabaseAsync();
        await RunAsync(database, "run", Repository.File("samples/orders.ndjson"), "--profile", Repository.File("profiles/orders.json"));
        var runId = (await PostgresFixture.ScalarAsync<Guid>(database, "SELECT run_id FROM dataprocess.runs")).ToString("D");

        var text = await RunAsync(database, "rejects", runId);
        var json = await RunAsync(database, "rejects", runId, "--json");
        var unknown = await RunAsync(database, "rejects", Guid.NewGuid().ToString("D"));

        text.ExitCode.Should().Be(0, text.Error);
        text.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Should().MatchRegex(@"^\s+3\s+ord_0004\s+.*customerEmail");
        var reject = System.Text.Json.Nodes.JsonNode.Parse(json.Output.Trim())!;
        reject["index"]!.GetValue<long>().Should().Be(3);
        reject["id"]!.GetValue<string>().Should().Be("ord_0004");
        reject["reason"]!.GetValue<string>().Should().Contain("customerEmail");
        unknown.ExitCode.Should().Be(1);
        unknown.Error.Should().StartWith("error: no run ").And.Contain("dataprocess runs");
    }

    [Fact]
    public async Task Db_url_prints_a_postgresql_url_that_psql_connects_with()
    {
        var database = await postgres.CreateDatabaseAsync();

        var url = await RunAsync(database, "db", "url");

        url.ExitCode.Should().Be(0, url.Error);
        var text = url.Output.Trim();
        text.Should().StartWith("postgresql://");
        var psql = new System.Diagnostics.ProcessStartInfo("psql") { ArgumentList = { text, "-At", "-c", "SELECT current_database()" }, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = System.Diagnostics.Process.Start(psql)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(0, await process.StandardError.ReadToEndAsync());
        output.Trim().Should().Be(new Npgsql.NpgsqlConnectionStringBuilder(database).Database);
    }

    [Theory]
    [InlineData("Host=/tmp/dp pg/run;Port=5433;Username=postgres;Database=dataprocess", "postgresql://postgres@/dataprocess?host=%2Ftmp%2Fdp%20pg%2Frun&port=5433")]
    [InlineData("Host=db.example;Port=5432;Username=app;Password=secret;Database=dp;SSL Mode=VerifyFull", "postgresql://app@db.example:5432/dp?sslmode=verify-full")]
    public void A_connection_string_becomes_a_url_with_the_socket_directory_as_the_host_parameter_and_no_password(string connectionString, string expected)
    {
        PostgresUrl.From(connectionString).Should().Be(expected);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Input(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private Task<CliRun> RunAsync(string database, params string[] args) => RunWithKeyAsync(database, _key, args);

    private async Task<CliRun> RunWithKeyAsync(string database, string? key, params string[] args)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DATAPROCESS_DATABASE"] = database,
            ["DATAPROCESS_HMAC_KEY"] = key,
            ["DATAPROCESS_LOCAL_DIR"] = Path.Combine(_directory, ".local"),
        };
        var output = new StringWriter();
        var error = new StringWriter();
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var console = new CliConsole(ansi, output, error, Interactive: false, name => environment.GetValueOrDefault(name));
        var exitCode = await DataProcessCli.RunAsync(args, console, CancellationToken.None);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    private static Dictionary<string, string> Summary(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0].Trim(), parts => parts[1].Trim());

    private sealed record CliRun(int ExitCode, string Output, string Error);
}
