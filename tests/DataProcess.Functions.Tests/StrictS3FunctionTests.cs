using System.Security.Cryptography;
using Amazon.S3.Model;
using DataProcess.Aws;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Profiles;
using DataProcess.DatabaseFunctions;
using DataProcess.Enrichment;
using DataProcess.Postgres;
using DataProcess.Testing;

namespace DataProcess.Functions.Tests;

/// <summary>
/// The functions' "missing" branches against an S3 as strict as the real one with each function's
/// deployed role: S3 answers a missing key 403, not 404, unless the role may list its prefix. The
/// roles' list grants come from the Terraform, so these tests fail if a grant the code depends on
/// is dropped from the stack.
/// </summary>
public sealed class StrictS3FunctionTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly (string, string) ListIncoming = ("input", "incoming/");

    [Fact]
    public async Task A_retried_failure_path_finds_the_source_already_quarantined_and_still_succeeds()
    {
        await using var s3 = await StrictS3.ForFunctionAsync("record_failure");
        var (failure, database) = await FailureAsync(s3);
        var function = new RecordFailureFunction(s3.Store(), PostgresRecordSink.Create(database), quarantine: true);

        var first = await InvokeAsync(function, failure);
        var retried = await InvokeAsync(function, failure);

        first.QuarantinedAs.Should().Be(new ObjectRef("input", "quarantine/customers/2026/12/03/ab12/customers.json"));
        retried.QuarantinedAs.Should().BeNull("the source was moved by the first attempt");
        (await PostgresFixture.ScalarAsync<string>(database, $"SELECT status FROM dataprocess.runs WHERE run_id = '{failure.RunId}'")).Should().Be("failed");
    }

    [Fact]
    public async Task Without_its_incoming_list_grant_the_failure_path_cannot_tell_a_moved_source_from_a_forbidden_one()
    {
        await using var s3 = await StrictS3.ForFunctionAsync("record_failure", without: ListIncoming);
        var (failure, database) = await FailureAsync(s3);
        var function = new RecordFailureFunction(s3.Store(), PostgresRecordSink.Create(database), quarantine: true);
        await InvokeAsync(function, failure);

        var retry = () => InvokeAsync(function, failure);

        (await retry.Should().ThrowAsync<S3AccessDeniedException>()).Which.Message
            .Should().StartWith("s3://input/incoming/customers/2026/12/03/ab12/customers.json: access denied to copy it").And.Contain("s3:ListBucket on bucket input");
    }

    [Fact]
    public async Task The_failure_path_records_a_run_whose_profile_is_missing()
    {
        await using var s3 = await StrictS3.ForFunctionAsync("record_failure");
        var (failure, database) = await FailureAsync(s3);
        var function = new RecordFailureFunction(s3.Store(), PostgresRecordSink.Create(database), quarantine: true);

        await InvokeAsync(function, failure with { Profile = new ObjectRef("staging", "profiles/gone.json") });

        (await PostgresFixture.ScalarAsync<string>(database, $"SELECT status || '|' || dataset FROM dataprocess.runs WHERE run_id = '{failure.RunId}'")).Should().Be("failed|customers", "the dataset is named by the key");
    }

    [Fact]
    public async Task The_replay_check_reports_a_missing_profile_as_missing_not_forbidden()
    {
        await using var s3 = await StrictS3.ForFunctionAsync("replay_check");
        var database = await postgres.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(database);
        await using var sink = PostgresRecordSink.Create(database);
        var function = new ReplayCheckFunction(s3.Store(), sink, new FixedKey());
        var request = Request() with { Profile = new ObjectRef("staging", "profiles/gone.json") };

        var check = () => PayloadSerializer.InvokeAsync(function.HandleAsync, request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.ReplayCheck);

        (await check.Should().ThrowAsync<ProfileException>("S3 answered 404, which the store reports as a missing object, not 403")).Which.Message
            .Should().StartWith("unknown dataset 'gone': there is no profile profiles/gone.json");
    }

    [Fact]
    public async Task A_stage_whose_role_may_not_list_incoming_reports_a_missing_source_as_access_denied_naming_both_grants()
    {
        await using var s3 = await StrictS3.ForFunctionAsync("enrichment");
        await PutAsync(s3, "staging", "profiles/customers.json", FunctionScenario.Profile);
        var function = new EnrichmentFunction(s3.Store());

        var enrich = () => PayloadSerializer.InvokeAsync(function.HandleAsync, Request(), PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.StageResult);

        s3.Grants.Should().NotContain(ListIncoming, "the stages read one object they were told exists");
        (await enrich.Should().ThrowAsync<S3AccessDeniedException>()).Which.Message
            .Should().StartWith("s3://input/incoming/customers/2026/12/03/ab12/customers.json: access denied to read it").And.Contain("s3:ListBucket");
    }

    private static StageRequest Request() => new()
    {
        RunId = Guid.NewGuid(),
        StartedAt = new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero),
        Source = new ObjectRef("input", "incoming/customers/2026/12/03/ab12/customers.json"),
        SourceETag = "0123456789abcdef0123456789abcdef",
        Profile = new ObjectRef("staging", "profiles/customers.json"),
        Staging = new StagingLocation("staging", "staging"),
    };

    private static Task<FailureRecorded> InvokeAsync(RecordFailureFunction function, RunFailure failure) =>
        PayloadSerializer.InvokeAsync(function.HandleAsync, failure, PayloadJsonContext.Default.RunFailure, PayloadJsonContext.Default.FailureRecorded);

    private async Task<(RunFailure Failure, string Database)> FailureAsync(StrictS3 s3)
    {
        var database = await postgres.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(database);
        var request = Request();
        await PutAsync(s3, "input", request.Source.Key, FunctionScenario.Customers);
        await PutAsync(s3, "staging", request.Profile.Key, FunctionScenario.Profile);
        return (RunFailure.Of(request, new CaughtError { Error = "MalformedInputException", Cause = "customers.json: broken" }), database);
    }

    private static async Task PutAsync(StrictS3 s3, string bucket, string key, string content)
    {
        using var client = s3.Client();
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = content, UseChunkEncoding = false });
    }

    private sealed class FixedKey : IHmacKeySource
    {
        private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

        public Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default) => Task.FromResult(new HmacKey(_key));
    }
}
