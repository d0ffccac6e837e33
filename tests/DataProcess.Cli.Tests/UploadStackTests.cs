using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using DataProcess.Testing;
using Spectre.Console;

namespace DataProcess.Cli.Tests;

public sealed class UploadStackTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dp-stack-").FullName;
    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _stackOutput = new();
    private readonly int _port = FreePort();
    private string _database = string.Empty;
    private Task<int>? _stack;

    private string Api => $"http://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}";

    public async Task InitializeAsync()
    {
        _database = await postgres.CreateDatabaseAsync();
        var output = TextWriter.Synchronized(_stackOutput);
        _stack = Task.Run(() => DataProcessCli.RunAsync(
            ["stack", "--profiles", Repository.File("profiles"), "--port", _port.ToString(CultureInfo.InvariantCulture), "--local-dir", Path.Combine(_directory, ".local")],
            Console(output, new StringWriter()),
            _stop.Token));
        for (var i = 0; i < 600 && !Printed("upload API: "); i++)
        {
            if (_stack.IsCompleted)
            {
                throw new InvalidOperationException($"the stack exited: {await _stack}; {_stackOutput}");
            }

            await Task.Delay(100);
        }

        Printed($"upload API: {Api}").Should().BeTrue(_stackOutput.ToString());
    }

    public async Task DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        if (_stack is not null)
        {
            (await _stack).Should().Be(0);
        }

        _stop.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Stack_up_then_upload_with_wait_loads_the_sample_into_postgres_from_a_key_under_incoming()
    {
        var upload = await CliAsync("upload", Repository.File("samples/customers.json"), "--dataset", "customers", "--api", Api, "--wait");

        upload.ExitCode.Should().Be(0, upload.Error);
        var lines = upload.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var key = lines[0];
        key.Should().MatchRegex(@"^incoming/customers/\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}/customers\.json$");
        upload.Output.Should().Contain("status:     succeeded").And.Contain("dataset:    customers");
        var records = await PostgresFixture.ScalarAsync<long>(_database, "SELECT count(*) FROM dataprocess.records");
        records.Should().BeGreaterThan(4000);
        upload.Output.Should().Contain($"records:    {records.ToString(CultureInfo.InvariantCulture)}");
        (await PostgresFixture.ScalarAsync<string>(_database, "SELECT source FROM dataprocess.runs")).Should().Be($"input/{key}");
        (await PostgresFixture.ScalarAsync<string>(_database, "SELECT string_agg(DISTINCT source, ',') FROM dataprocess.records")).Should().Be($"input/{key}");
    }

    [Fact]
    public async Task Two_datasets_with_different_personal_fields_load_in_one_session_each_with_its_own_profile()
    {
        var customers = await CliAsync("upload", Repository.File("samples/customers.json"), "--dataset", "customers", "--api", Api, "--wait");
        var orders = await CliAsync("upload", Repository.File("samples/orders.ndjson"), "--dataset", "orders", "--api", Api, "--wait");

        customers.ExitCode.Should().Be(0, customers.Error);
        orders.ExitCode.Should().Be(0, orders.Error);
        orders.Output.Split('\n')[0].Should().MatchRegex(@"^incoming/orders/\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}/orders\.ndjson$");
        orders.Output.Should().Contain("dataset:    orders").And.Contain("records:    3").And.Contain("rejected:   1");
        (await PostgresFixture.ScalarAsync<string>(_database, "SELECT string_agg(dataset || '=' || status, ',' ORDER BY dataset) FROM dataprocess.runs")).Should().Be("customers=succeeded,orders=succeeded");
        (await PostgresFixture.ScalarAsync<long>(_database, "SELECT count(*) FROM dataprocess.records WHERE dataset = 'orders'")).Should().Be(3);

        // Each dataset's personal fields went through its own rules: the card number is masked, the e-mail hashed.
        var order = await PostgresFixture.ScalarAsync<string>(_database, "SELECT data::text FROM dataprocess.records WHERE dataset = 'orders' AND record_id = 'ord_0001'");
        order.Should().NotContain("4111111111111111").And.NotContain("Anna.Schmidt@example.com").And.NotContain("Hauptstraße").And.Contain("\"customer_domain\": \"example.com\"");
        (await PostgresFixture.ScalarAsync<long>(_database, "SELECT count(*) FROM dataprocess.records WHERE dataset = 'customers' AND data ? 'customer_domain'")).Should().Be(0);
    }

    [Fact]
    public async Task An_unknown_dataset_is_refused_at_upload_naming_the_stacks_datasets_and_nothing_is_uploaded()
    {
        var upload = await CliAsync("upload", Repository.File("samples/customers.json"), "--dataset", "invoices", "--api", Api);

        upload.ExitCode.Should().Be(1);
        upload.Output.Should().BeEmpty();
        upload.Error.Should().Be("error: the upload API refused the upload (400): dataset: unknown dataset 'invoices': this stack has datasets customers, orders" + Environment.NewLine);
        Directory.EnumerateFiles(Path.Combine(_directory, ".local", "s3", "input"), "*", SearchOption.AllDirectories).Where(f => f.Contains("incoming", StringComparison.Ordinal)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_file_the_pipeline_cannot_read_is_uploaded_then_its_run_fails_and_wait_exits_1()
    {
        var broken = Path.Combine(_directory, "broken.json");
        await File.WriteAllTextAsync(broken, "{\"result\":[{\"id\":1,\"email\":\"a@example.org\"},\n{\"id\":2");

        var upload = await CliAsync("upload", broken, "--dataset", "customers", "--api", Api, "--wait");

        upload.ExitCode.Should().Be(1);
        upload.Output.Should().Contain("status:     failed");
        upload.Error.Should().StartWith("error: the run failed: ").And.Contain("broken.json").And.Contain("truncated");
        (await PostgresFixture.ScalarAsync<long>(_database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
    }

    [Theory]
    [InlineData("""{"result":[]}""", 0)]
    [InlineData("""{"result":[{"id":"a"},{"id":"b","email":null},7]}""", 3)]
    public async Task An_empty_file_or_one_whose_every_record_is_rejected_succeeds_with_zero_records(string content, long rejected)
    {
        var file = Path.Combine(_directory, "customers.json");
        await File.WriteAllTextAsync(file, content);

        var upload = await CliAsync("upload", file, "--dataset", "customers", "--api", Api, "--wait");

        upload.ExitCode.Should().Be(0, upload.Error);
        upload.Output.Should().Contain("status:     succeeded").And.Contain("records:    0").And.Contain($"rejected:   {rejected.ToString(CultureInfo.InvariantCulture)}");
        (await PostgresFixture.ScalarAsync<string>(_database, "SELECT status || ':' || records || ':' || rejected FROM dataprocess.runs")).Should().Be($"succeeded:0:{rejected.ToString(CultureInfo.InvariantCulture)}");
        (await PostgresFixture.ScalarAsync<long>(_database, "SELECT count(*) FROM dataprocess.rejects")).Should().Be(rejected);
        StagedFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task Stopping_the_stack_during_a_run_records_it_as_cancelled_and_leaves_its_source_under_incoming()
    {
        await Postgres.SchemaMigrator.MigrateAsync(_database);
        await using var loadLock = new Npgsql.NpgsqlConnection(_database);
        await loadLock.OpenAsync();
        await using (var command = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('dataprocess:customers', 0))", loadLock))
        {
            await command.ExecuteNonQueryAsync();
        }

        var upload = await CliAsync("upload", Repository.File("samples/customers.json"), "--dataset", "customers", "--api", Api);
        upload.ExitCode.Should().Be(0, upload.Error);
        var key = upload.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Trim();
        await postgres.WaitForLockWaitAsync(new Npgsql.NpgsqlConnectionStringBuilder(_database).Database!, "%pg_advisory_xact_lock%", _stack!);

        await _stop.CancelAsync();
        (await _stack!).Should().Be(0, _stackOutput.ToString());

        (await PostgresFixture.ScalarAsync<string>(_database, "SELECT status || ' | ' || error || ' | ' || source FROM dataprocess.runs")).Should().Be($"failed | cancelled | input/{key}");
        (await PostgresFixture.ScalarAsync<long>(_database, "SELECT count(*) FROM dataprocess.records")).Should().Be(0);
        Printed("cancelled: " + key).Should().BeTrue(_stackOutput.ToString());
        Directory.EnumerateFiles(Path.Combine(_directory, ".local", "s3", "input"), "*", SearchOption.AllDirectories)
            .Should().Contain(f => f.Contains("incoming", StringComparison.Ordinal)).And.NotContain(f => f.Contains("quarantine", StringComparison.Ordinal));
        StagedFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task A_file_type_the_api_does_not_accept_is_refused_before_any_upload()
    {
        var csv = Path.Combine(_directory, "customers.csv");
        await File.WriteAllTextAsync(csv, "id,email\n1,a@example.org\n");

        var upload = await CliAsync("upload", csv, "--dataset", "customers", "--api", Api);

        upload.ExitCode.Should().Be(1);
        upload.Error.Should().Be("error: the upload API refused the upload (400): fileName: filename must end in .json, .ndjson, .jsonl" + Environment.NewLine);
    }

    [Fact]
    public async Task An_expired_presigned_upload_is_refused_by_the_policy_it_carries()
    {
        // s3rver neither checks POST policies nor their expiry (it does check presigned query-string
        // URLs): the proof here is the signed policy itself, which S3 evaluates. See docs/upload.md.
        using var http = new HttpClient();
        using var response = await http.PostAsJsonAsync($"{Api}/uploads", new { dataset = "customers", filename = "c.json", contentType = "application/json", size = 10 });
        response.StatusCode.Should().Be(HttpStatusCode.Created);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var policy = JsonDocument.Parse(Convert.FromBase64String(body.RootElement.GetProperty("fields").GetProperty("Policy").GetString()!)).RootElement;
        var expiration = DateTimeOffset.Parse(policy.GetProperty("expiration").GetString()!, CultureInfo.InvariantCulture);

        expiration.Should().BeCloseTo(DateTimeOffset.UtcNow.AddMinutes(15), TimeSpan.FromMinutes(1));
        DateTimeOffset.Parse(body.RootElement.GetProperty("expiresAt").GetString()!, CultureInfo.InvariantCulture).Should().BeCloseTo(expiration, TimeSpan.FromSeconds(1));
        policy.GetProperty("conditions").EnumerateArray().Select(c => c.GetRawText()).Should().Contain("[\"content-length-range\",1,10]");
    }

    [Fact]
    public async Task The_ledger_route_reports_pending_for_a_key_without_a_run_and_requires_a_key()
    {
        using var http = new HttpClient();

        (await http.GetStringAsync($"{Api}/runs?key=incoming/none.json")).Should().Contain("\"status\":\"pending\"");
        (await http.GetAsync($"{Api}/runs")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    /// <summary>Stage outputs left in the stack's staging bucket (the profile lives beside them, under profiles/).</summary>
    private IEnumerable<string> StagedFiles()
    {
        var staging = Path.Combine(_directory, ".local", "s3", "staging");
        return Directory.Exists(staging)
            ? Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).Where(f => !f.Contains("profiles", StringComparison.Ordinal))
            : [];
    }

    private bool Printed(string text) => _stackOutput.ToString().Contains(text, StringComparison.Ordinal);

    private async Task<(int ExitCode, string Output, string Error)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await DataProcessCli.RunAsync(args, Console(output, error), CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private CliConsole Console(TextWriter output, TextWriter error)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DATAPROCESS_DATABASE"] = _database,
            ["DATAPROCESS_HMAC_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        };
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        return new CliConsole(ansi, output, error, Interactive: false, name => environment.GetValueOrDefault(name));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
