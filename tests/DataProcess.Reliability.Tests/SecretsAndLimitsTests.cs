using System.Text;
using DataProcess.Testing;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 6: the key is checked before anything is read, and no value of an anonymized field ever reaches
/// an error message, a reject reason, the ledger, stdout/stderr or a staging file, whatever goes wrong.
/// </summary>
public sealed class SecretsAndLimitsTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string Marker = "PII-MARKER-";

    /// <summary>Every personal field is anonymized; the enrichment reads personal fields too (it may only derive).</summary>
    private const string Profile =
        """
        {"dataset":"people","id":"id","require":["email"],
         "anonymize":{"email":"hash","name":"hash","phone":"mask","birthDate":"year","ip":"ip-prefix","friends[*].name":"hash","notes":"redact"},
         "enrich":{"domain":{"fn":"email-domain","from":"email"},"age":{"fn":"age","from":"birthDate"}}}
        """;

    private readonly CliHarness _cli = new();
    private readonly List<string> _captured = [];

    [Fact]
    public async Task A_missing_key_is_refused_before_the_input_is_read()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("input.json", """[{"id":1,"email":"a@example.org"}]""");

        var run = await _cli.RunWithAsync(database, key: null, "run", input, "--profile", _cli.Profile());

        run.ExitCode.Should().Be(1);
        run.ErrorLines.Should().ContainSingle().Which.Should().Be("error: no HMAC key: pass --key-file FILE or set DATAPROCESS_HMAC_KEY (create a key with: openssl rand -base64 32)");
        (await Ledger.SchemaExistsAsync(database)).Should().BeFalse("no run was started: nothing was recorded");
        _cli.LeftoverFiles().Should().BeEmpty("nothing was read or staged");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(31)]
    public async Task A_key_shorter_than_32_bytes_is_refused_before_the_input_is_read(int length)
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("input.json", """[{"id":1,"email":"a@example.org"}]""");
        var key = Convert.ToBase64String(new byte[length]);

        var fromEnvironment = await _cli.RunWithAsync(database, key, "run", input, "--profile", _cli.Profile());
        var fromFile = await _cli.RunWithAsync(database, null, "run", input, "--profile", _cli.Profile(), "--key-file", _cli.File("short.key", key + "\n"));

        fromEnvironment.ExitCode.Should().Be(1);
        fromFile.ExitCode.Should().Be(1);
        var expected = $"the HMAC key is {length} bytes; at least 32 are required";
        fromEnvironment.ErrorLines.Should().ContainSingle().Which.Should().StartWith("error: DATAPROCESS_HMAC_KEY").And.Contain(expected);
        fromFile.ErrorLines.Should().ContainSingle().Which.Should().StartWith("error: the key file ").And.Contain(expected);
        (await Ledger.SchemaExistsAsync(database)).Should().BeFalse();
    }

    [Fact]
    public async Task A_key_that_is_not_base64_is_refused_without_echoing_it()
    {
        var database = await postgres.CreateDatabaseAsync();
        var run = await _cli.RunWithAsync(database, "not-base64-SECRET-KEY-TEXT!!", "run", _cli.File("input.json", "[]"), "--profile", _cli.Profile());

        run.ExitCode.Should().Be(1);
        run.ErrorLines.Should().ContainSingle().Which.Should().Contain("is not base64").And.NotContain("SECRET-KEY-TEXT");
    }

    [Fact]
    public async Task Rejected_records_never_carry_a_personal_value_anywhere()
    {
        var database = await postgres.CreateDatabaseAsync();
        var records = new[]
        {
            $$"""{"id":"ok","email":"{{Marker}}1@example.org","name":"{{Marker}}2","phone":"{{Marker}}3-0000","birthDate":"1990-01-02","ip":"10.1.2.3","notes":"{{Marker}}4","friends":[{"name":"{{Marker}}5"}]}""",
            $$"""{"id":"obj","email":{"value":"{{Marker}}6@example.org"} }""",
            $$"""{"id":"arr","email":"x@example.org","name":["{{Marker}}7"]}""",
            $$"""{"id":"dup","email":"{{Marker}}8@example.org","email":"{{Marker}}9@example.org"}""",
            $$"""{"email":"{{Marker}}10@example.org"}""",
            $$"""{"id":null,"email":"{{Marker}}11@example.org"}""",
            $$"""{"id":{"nested":"x"},"email":"{{Marker}}12@example.org"}""",
            $$"""{"id":"{{new string('x', 300)}}","email":"{{Marker}}13@example.org"}""",
            $$"""{"id":"date","email":"x@example.org","birthDate":"{{Marker}}14"}""",
            $$"""{"id":"ip","email":"x@example.org","ip":"{{Marker}}15"}""",
            $$"""{"id":"friend","email":"x@example.org","friends":[{"name":{"first":"{{Marker}}16"} }]}""",
            $$"""{"id":"noemail","name":"{{Marker}}17"}""",
            $$"""["{{Marker}}18"]""",
            $$"""{"id":"late","email":"{{Marker}}19@example.org","phone":true}""",
        };
        var input = _cli.File("people.json", "[" + string.Join(",\n", records) + "]");

        var run = await RunCapturedAsync(database, input, "--json");

        run.ExitCode.Should().Be(0, run.Error);
        (await Ledger.RejectsAsync(database)).Should().HaveCount(records.Length - 1);
        await CaptureDatabaseAsync(database);
        Leaks().Should().BeEmpty();
    }

    [Theory]
    [InlineData("truncated inside a personal value", "{\"id\":2,\"email\":\"PII-MARKER-20@exa")]
    [InlineData("invalid escape inside a personal value", "{\"id\":2,\"email\":\"PII-MARKER-21\\q@example.org\"}]")]
    [InlineData("control character inside a personal value", "{\"id\":2,\"email\":\"PII-MARKER-22\u0001@example.org\"}]")]
    [InlineData("garbage after a personal value", "{\"id\":2,\"email\":\"PII-MARKER-23@example.org\"} PII-MARKER-24]")]
    [InlineData("NaN after a personal value", "{\"id\":2,\"email\":\"PII-MARKER-25@example.org\",\"score\":NaN}]")]
    [InlineData("single quotes around a personal value", "{\"id\":2,\"email\":'PII-MARKER-26@example.org'}]")]
    [InlineData("unquoted personal value", "{\"id\":2,\"email\":PII-MARKER-27}]")]
    [InlineData("huge exponent after a personal value", "{\"id\":2,\"email\":\"PII-MARKER-28@example.org\",\"score\":1e999999999}]")]
    [InlineData("NUL escape in a kept field", "{\"id\":2,\"email\":\"PII-MARKER-29@example.org\",\"city\":\"a\\u0000b\"}]")]
    public async Task A_failed_run_never_carries_a_personal_value_anywhere(string cell, string tail)
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", $$"""[{"id":1,"email":"{{Marker}}0@example.org","name":"{{Marker}}00"},""" + "\n" + tail);

        var run = await RunCapturedAsync(database, input);
        await RunCapturedAsync(database, input, "--json");
        _captured.Add((await RunWithDebugAsync(database, input)).Error);

        run.ExitCode.Should().Be(1, cell);
        (await Ledger.RunsAsync(database)).Should().NotBeEmpty().And.OnlyContain(r => r.Status == "failed");
        await CaptureDatabaseAsync(database);
        Leaks().Should().BeEmpty(cell);
    }

    [Fact]
    public async Task A_record_over_the_size_limit_never_carries_a_personal_value_in_its_error()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = await _cli.StreamedFileAsync("big-record.json", async stream =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"[{{\"id\":1,\"email\":\"{Marker}30@example.org\",\"notes\":\""));
            var chunk = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(Marker + "31 ", 1000)));
            for (var written = 0L; written < 17L << 20; written += chunk.Length)
            {
                await stream.WriteAsync(chunk);
            }

            await stream.WriteAsync("\"}]"u8.ToArray());
        });

        var run = await RunCapturedAsync(database, input);

        run.ExitCode.Should().Be(1);
        await CaptureDatabaseAsync(database);
        Leaks().Should().BeEmpty();
    }

    public void Dispose() => _cli.Dispose();

    private async Task<CliRun> RunCapturedAsync(string database, string input, params string[] extra)
    {
        var run = await _cli.RunAsync(database, ["run", input, "--profile", _cli.Profile(Profile), .. extra]);
        _captured.Add(run.Output);
        _captured.Add(run.Error);
        return run;
    }

    /// <summary>DATAPROCESS_DEBUG=1 adds the stack trace: the exception's message must be clean too.</summary>
    private async Task<CliRun> RunWithDebugAsync(string database, string input)
    {
        _cli.Debug = true;
        try
        {
            return await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(Profile));
        }
        finally
        {
            _cli.Debug = false;
        }
    }

    private async Task CaptureDatabaseAsync(string database)
    {
        _captured.Add(await PostgresFixture.ScalarAsync<string>(database, "SELECT coalesce(string_agg(concat_ws(' ', status, error), E'\\n'), '') FROM dataprocess.runs"));
        _captured.Add(await PostgresFixture.ScalarAsync<string>(database, "SELECT coalesce(string_agg(concat_ws(' ', record_id, reason), E'\\n'), '') FROM dataprocess.rejects"));
        _captured.Add(await PostgresFixture.ScalarAsync<string>(database, "SELECT coalesce(string_agg(data::text, E'\\n'), '') FROM dataprocess.records"));

        // Staging outputs are deleted after a run; whatever is left must be clean as well.
        foreach (var file in _cli.LeftoverFiles())
        {
            _captured.Add(await File.ReadAllTextAsync(file));
        }
    }

    private IEnumerable<string> Leaks() =>
        _captured.Where(text => text.Contains(Marker, StringComparison.Ordinal))
            .Select(text => text.Length > 300 ? text[..300] : text);
}
