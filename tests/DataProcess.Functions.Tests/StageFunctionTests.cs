using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Records;
using DataProcess.Core.Transforms;
using DataProcess.Testing;

namespace DataProcess.Functions.Tests;

public sealed class StageFunctionTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Enrichment_writes_one_line_per_record_with_only_derived_fields()
    {
        await using var scenario = new FunctionScenario(await postgres.CreateDatabaseAsync());

        var result = await scenario.EnrichAsync();

        result.Stage.Should().Be("enrichment");
        result.Records.Should().Be(5);
        result.Rejected.Should().Be(2);
        result.Output.Should().Be(new ObjectRef("staging", $"staging/{scenario.Request.RunId:D}/enrichment.ndjson"));
        var lines = Lines(scenario.ReadText(result.Output));
        lines.Should().HaveCount(5);
        lines[0]["e"]!.ToJsonString().Should().Be("""{"email_domain":"example.org","age":210,"country":"United Kingdom"}""");
        lines[1]["e"]!["age"]!.GetValue<int>().Should().Be(119);
        lines[2]["x"]!.GetValue<string>().Should().Be("the required field 'email' is missing");
        lines[3]["x"]!.GetValue<string>().Should().Be("the record is a number, not an object");
        lines.Select(l => l["i"]!.GetValue<long>()).Should().Equal(0, 1, 2, 3, 4);
        Leaked(scenario.ReadText(result.Output)).Should().BeEmpty();
    }

    [Fact]
    public async Task Anonymization_writes_pseudonyms_and_no_personal_value()
    {
        await using var scenario = new FunctionScenario(await postgres.CreateDatabaseAsync());

        var result = await scenario.AnonymizeAsync();

        result.Stage.Should().Be("anonymization");
        result.Records.Should().Be(5);
        result.Rejected.Should().Be(2);
        result.BytesRead.Should().Be(Encoding.UTF8.GetByteCount(FunctionScenario.Customers));
        var text = scenario.ReadText(result.Output);
        Leaked(text).Should().BeEmpty();
        var ada = Lines(text)[0]["r"]!;
        ada["email"]!.GetValue<string>().Should().Be(Pseudonym.Compute(new HMACSHA256(scenario.Key), "ada.lovelace@example.org"));
        ada["phone"]!.GetValue<string>().Should().Be("*********0001");
        ada["birthDate"]!.GetValue<int>().Should().Be(1815);
        ada["ip"]!.GetValue<string>().Should().Be("203.0.113.0/24");
        ada["friends"]![0]!.AsObject().ContainsKey("phone").Should().BeFalse();
        ada["address"]!["city"]!.GetValue<string>().Should().Be("London");
        Lines(text)[1]["r"]!["ip"]!.GetValue<string>().Should().Be("2001:db8:85a3::/48");
    }

    [Fact]
    public async Task A_malformed_source_fails_the_stage_and_writes_no_output()
    {
        await using var scenario = new FunctionScenario(await postgres.CreateDatabaseAsync(), source: """{"result":[{"id":"c1","email":"a@b.org"},{"id":"c2",]}""");

        var act = () => scenario.AnonymizeAsync();

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().StartWith("customers.json: malformed JSON at line 1, column 53");
        Directory.Exists(Path.Combine(scenario.Root, "staging")).Should().BeTrue();
        Directory.EnumerateFiles(Path.Combine(scenario.Root, "staging"), "*", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Fact]
    public async Task A_payload_without_a_required_field_is_refused_naming_it()
    {
        await using var scenario = new FunctionScenario(await postgres.CreateDatabaseAsync());
        await using var payload = new MemoryStream("""{"runId":"6f1c2d3e-0000-4000-8000-000000000001","source":{"bucket":"input","key":"k"}}"""u8.ToArray());

        var act = () => scenario.Enrichment.HandleAsync(payload);

        (await act.Should().ThrowAsync<PayloadException>()).Which.Message.Should().Contain("StageRequest").And.Contain("startedAt");
    }

    [Fact]
    public async Task A_missing_profile_is_refused_as_an_unknown_dataset_naming_it()
    {
        await using var scenario = new FunctionScenario(await postgres.CreateDatabaseAsync());
        scenario.Request = scenario.Request with { Profile = new ObjectRef("config", "profiles/nope.json") };

        var act = () => scenario.EnrichAsync();

        (await act.Should().ThrowAsync<Exception>()).Which.Message.Should().Be("unknown dataset 'nope': there is no profile profiles/nope.json (a stack's datasets are the files of its profiles/ directory)");
    }

    [Fact]
    public async Task Stages_keep_source_order_across_many_batches_and_workers()
    {
        // Enough records for dozens of batches, so the workers finish them out of order.
        var source = new System.Text.StringBuilder("{\"result\":[");
        for (var i = 0; i < 30_000; i++)
        {
            source.Append(i == 0 ? "" : ",").Append(i % 997 == 0 ? "42" : $$"""{"id":"c{{i}}","email":"u{{i}}@example.org","name":"N {{i}}","birthDate":"1990-01-01"}""");
        }

        await using var scenario = new FunctionScenario(await postgres.CreateDatabaseAsync(), source: source.Append("]}").ToString());

        var stages = await Task.WhenAll(scenario.EnrichAsync(), scenario.AnonymizeAsync());

        foreach (var stage in stages)
        {
            var lines = scenario.ReadText(stage.Output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines.Should().HaveCount(30_000);
            lines.Select(l => JsonNode.Parse(l)!["i"]!.GetValue<long>()).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
            stage.Rejected.Should().Be(31);
        }
    }

    internal static List<string> Leaked(string text) =>
        FunctionScenario.PersonalValues.Where(v => text.Contains(v, StringComparison.Ordinal)).ToList();

    private static List<JsonNode> Lines(string ndjson) =>
        ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
}
