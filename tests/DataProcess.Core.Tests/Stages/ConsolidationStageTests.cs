using System.Text;
using DataProcess.Local;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;

namespace DataProcess.Core.Tests.Stages;

public sealed class ConsolidationStageTests : IDisposable
{
    private static readonly Guid RunId = Guid.Parse("6f1c2d3e-0000-4000-8000-000000000001");
    private readonly string _root = Directory.CreateTempSubdirectory("dp-consolidation-").FullName;
    private readonly DirectoryObjectStore _store;
    private readonly RecordingSink _sink = new();

    public ConsolidationStageTests()
    {
        _store = new DirectoryObjectStore(_root);
        Put("config", "profile.json", """{"dataset":"customers","id":"id"}""");
    }

    [Theory]
    [InlineData("""{"id":"1","a":1}""", """{"x":2}""", """{"id":"1","a":1,"x":2}""")]
    [InlineData("""{"id":"1"}""", """{}""", """{"id":"1"}""")]
    [InlineData("""{}""", """{"x":null}""", """{"x":null}""")]
    [InlineData("""{"id":"1","n":{"b":[1,{"c":"}"}]}}""", """{"x":"{","y":[]}""", """{"id":"1","n":{"b":[1,{"c":"}"}]},"x":"{","y":[]}""")]
    public void Merge_adds_the_enrichment_fields_at_the_top_level(string record, string enrichment, string expected)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(4);

        var length = ConsolidationStage.Merge(Encoding.UTF8.GetBytes(record), Encoding.UTF8.GetBytes(enrichment), ref buffer);

        Encoding.UTF8.GetString(buffer, 0, length).Should().Be(expected);
    }

    [Fact]
    public async Task Loads_merged_records_and_rejects_in_source_order()
    {
        var request = Request(
            anonymized: """
                {"i":0,"id":"a","r":{"id":"a","email":"h1"}}
                {"i":1,"id":null,"x":"the id 'id' is missing"}
                {"i":2,"id":"c","r":{"id":"c","email":"h3"}}
                """,
            enriched: """
                {"i":0,"id":"a","e":{"domain":"x.org"}}
                {"i":1,"id":null,"x":"the id 'id' is missing"}
                {"i":2,"id":"c","e":{"domain":"y.org"}}
                """,
            records: 3);

        var summary = await new ConsolidationStage(_store, _sink).RunAsync(request);

        summary.Status.Should().Be("succeeded");
        summary.Dataset.Should().Be("customers");
        _sink.Records.Should().Equal(
            (0L, "a", """{"id":"a","email":"h1","domain":"x.org"}"""),
            (2L, "c", """{"id":"c","email":"h3","domain":"y.org"}"""));
        _sink.Rejects.Should().Equal((1L, (string?)null, "the id 'id' is missing"));
        _sink.Completed.Should().BeTrue();
        _sink.Run!.Source.Should().Be("input/customers.json");
        _sink.Run.SourceETag.Should().Be("etag-1");
    }

    [Fact]
    public async Task Takes_the_anonymization_reject_when_only_anonymization_rejected()
    {
        var request = Request(
            anonymized: """{"i":0,"id":"a","x":"field 'birthDate' is not a recognisable date"}""",
            enriched: """{"i":0,"id":"a","e":{"age":null}}""",
            records: 1);

        await new ConsolidationStage(_store, _sink).RunAsync(request);

        _sink.Rejects.Should().Equal((0L, "a", "field 'birthDate' is not a recognisable date"));
        _sink.Records.Should().BeEmpty();
    }

    [Theory]
    [InlineData("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"b","e":{}}""", "the record ids of the stage outputs disagree at record 0")]
    [InlineData("""{"i":0,"id":"a","r":{}}""", """{"i":1,"id":"a","e":{}}""", "out of step at record 0")]
    [InlineData("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","x":"no"}""", "enrichment rejected it, anonymization did not")]
    [InlineData("{\"i\":0,\"id\":\"a\",\"r\":{}}\n{\"i\":1,\"id\":\"b\",\"r\":{}}", """{"i":0,"id":"a","e":{}}""", "the stage outputs end at different records")]
    [InlineData("""{"i":0,"id":"a","r":{}""", """{"i":0,"id":"a","e":{}}""", "staging output anonymization.ndjson")]
    [InlineData("""{"i":0,"r":{}}""", """{"i":0,"id":"a","e":{}}""", "is not a staged record")]
    public async Task Refuses_to_merge_outputs_that_disagree_and_loads_nothing(string anonymized, string enriched, string expected)
    {
        var act = () => new ConsolidationStage(_store, _sink).RunAsync(Request(anonymized, enriched, records: 1));

        (await act.Should().ThrowAsync<StagingException>()).Which.Message.Should().Contain(expected);
        _sink.Completed.Should().BeFalse();
        _sink.Disposed.Should().BeTrue();
    }

    [Fact]
    public async Task Refuses_outputs_shorter_than_the_stages_reported()
    {
        var act = () => new ConsolidationStage(_store, _sink).RunAsync(Request("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","e":{}}""", records: 2));

        (await act.Should().ThrowAsync<StagingException>()).Which.Message.Should().Contain("hold 1 records but the stages reported 2");
    }

    [Fact]
    public async Task Refuses_a_missing_stage_output()
    {
        var request = Request("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","e":{}}""", records: 1);
        File.Delete(Path.Combine(_root, "staging", "staging", RunId.ToString("D"), "enrichment.ndjson"));

        var act = () => new ConsolidationStage(_store, _sink).RunAsync(request);

        (await act.Should().ThrowAsync<ObjectNotFoundException>()).Which.Message.Should().Contain("enrichment.ndjson does not exist");
    }

    [Fact]
    public async Task Reports_skipped_naming_the_run_the_sink_matched()
    {
        var matched = Guid.NewGuid();
        _sink.Matched = matched;

        var summary = await new ConsolidationStage(_store, _sink).RunAsync(Request("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","e":{}}""", records: 1));

        summary.Status.Should().Be("skipped");
        summary.MatchedRunId.Should().Be(matched);
        _sink.Records.Should().BeEmpty();
    }

    [Fact]
    public async Task Begins_the_load_with_the_run_identity_and_the_reprocess_switch()
    {
        await new ConsolidationStage(_store, _sink).RunAsync(Request("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","e":{}}""", records: 1) with { Reprocess = true });

        _sink.Run!.ProfileHash.Should().Be(ProfileHash).And.HaveLength(64);
        _sink.Run.KeyFingerprint.Should().Be("key-fingerprint");
        _sink.Reprocess.Should().BeTrue();
    }

    [Fact]
    public async Task An_empty_file_loads_nothing_and_succeeds()
    {
        var summary = await new ConsolidationStage(_store, _sink).RunAsync(Request(string.Empty, string.Empty, records: 0, newline: false));

        summary.Should().BeEquivalentTo(new { Status = "succeeded", Records = 0, Rejected = 0 });
        _sink.Completed.Should().BeTrue();
    }

    [Fact]
    public async Task A_file_whose_every_record_is_rejected_succeeds_with_its_rejects()
    {
        var summary = await new ConsolidationStage(_store, _sink).RunAsync(Request(
            "{\"i\":0,\"id\":null,\"x\":\"the id 'id' is missing\"}\n{\"i\":1,\"id\":\"b\",\"x\":\"the required field 'email' is missing\"}",
            "{\"i\":0,\"id\":null,\"x\":\"the id 'id' is missing\"}\n{\"i\":1,\"id\":\"b\",\"x\":\"the required field 'email' is missing\"}",
            records: 2));

        summary.Should().BeEquivalentTo(new { Status = "succeeded", Records = 0, Rejected = 2 });
        _sink.Rejects.Should().HaveCount(2);
        _sink.Completed.Should().BeTrue();
    }

    [Theory]
    [InlineData(0.5, false)]
    [InlineData(0.49, true)]
    [InlineData(0.0, true)]
    public async Task A_reject_share_above_the_profile_limit_fails_the_run_and_keeps_the_rejects(double limit, bool fails)
    {
        Put("config", "profile.json", FormattableString.Invariant($$"""{"dataset":"customers","id":"id","maxRejectRatio":{{limit}}}"""));
        var request = Request(
            "{\"i\":0,\"id\":\"a\",\"r\":{}}\n{\"i\":1,\"id\":null,\"x\":\"the id 'id' is missing\"}",
            "{\"i\":0,\"id\":\"a\",\"e\":{}}\n{\"i\":1,\"id\":null,\"x\":\"the id 'id' is missing\"}",
            records: 2);

        var act = () => new ConsolidationStage(_store, _sink).RunAsync(request);

        if (!fails)
        {
            (await act()).Status.Should().Be("succeeded");
            return;
        }

        (await act.Should().ThrowAsync<RejectRatioExceededException>()).Which.Message.Should().Be(
            FormattableString.Invariant($"customers.json: 1 of 2 records were rejected (50%), more than the profile's maxRejectRatio of {limit}; nothing was loaded, the rejects are kept in dataprocess.rejects"));
        _sink.FailedWith.Should().StartWith("customers.json: 1 of 2 records were rejected");
        _sink.Rejects.Should().ContainSingle();
        _sink.Records.Should().BeEmpty();
    }

    [Fact]
    public async Task Refuses_stage_outputs_made_with_another_version_of_the_profile()
    {
        var request = Request("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","e":{}}""", records: 1);
        Put("config", "profile.json", """{"dataset":"customers","id":"id","require":["email"]}""");

        var act = () => new ConsolidationStage(_store, _sink).RunAsync(request);

        (await act.Should().ThrowAsync<StagingException>()).Which.Message.Should().Be("the profile profile.json changed during the run: enrichment read another version; run the file again");
        _sink.Run.Should().BeNull("nothing was begun");
    }

    [Fact]
    public async Task Refuses_an_anonymization_result_without_the_key_fingerprint()
    {
        var request = Request("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","e":{}}""", records: 1);
        request = request with { Stages = [request.Stages[0] with { KeyFingerprint = null }, request.Stages[1]] };

        var act = () => new ConsolidationStage(_store, _sink).RunAsync(request);

        (await act.Should().ThrowAsync<StagingException>()).Which.Message.Should().Be("the anonymization result does not say which key it used");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string ProfileHash => Core.Profiles.ProfileLoader.Parse(File.ReadAllBytes(Path.Combine(_root, "config", "profile.json")), "profile.json").Hash;

    private ConsolidationRequest Request(string anonymized, string enriched, long records, bool newline = true)
    {
        var staging = new StagingLocation("staging", "staging");
        Put("staging", $"staging/{RunId:D}/anonymization.ndjson", anonymized + (newline ? "\n" : string.Empty));
        Put("staging", $"staging/{RunId:D}/enrichment.ndjson", enriched + (newline ? "\n" : string.Empty));
        return new ConsolidationRequest
        {
            RunId = RunId,
            StartedAt = DateTimeOffset.UnixEpoch,
            Source = new ObjectRef("input", "customers.json"),
            SourceETag = "etag-1",
            Profile = new ObjectRef("config", "profile.json"),
            Staging = staging,
            Stages =
            [
                Result("anonymization", staging.For(RunId, "anonymization"), records) with { KeyFingerprint = "key-fingerprint" },
                Result("enrichment", staging.For(RunId, "enrichment"), records),
            ],
        };
    }

    private StageResult Result(string stage, ObjectRef output, long records) => new()
    {
        RunId = RunId,
        Stage = stage,
        Output = output,
        Records = records,
        Rejected = 0,
        BytesRead = 0,
        Seconds = 0,
        ProfileHash = ProfileHash,
    };

    private void Put(string bucket, string key, string content)
    {
        var path = Path.Combine(_root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>
    /// Records what a load receives, and holds the caller to the load protocol as the PostgreSQL sink does (which has
    /// its own integration tests): pass one takes every record index in order, pass two the keys in the same order.
    /// </summary>
    private sealed class RecordingSink : IRecordSink, IRunLoad
    {
        private readonly List<long> _keys = [];
        private bool _keysEnded;
        private long _next;

        public Guid? Matched { get; set; }

        public RunDescriptor? Run { get; private set; }

        public bool Reprocess { get; private set; }

        public List<(long, string, string)> Records { get; } = [];

        public List<(long, string?, string)> Rejects { get; } = [];

        public bool Completed { get; private set; }

        public string? FailedWith { get; private set; }

        public bool Disposed { get; private set; }

        public Task<Guid?> SkipIfLoadedAsync(RunDescriptor run, CancellationToken cancellationToken = default) => Task.FromResult(Matched);

        public Task<LoadStart> BeginAsync(RunDescriptor run, bool reprocess, CancellationToken cancellationToken = default)
        {
            Run = run;
            Reprocess = reprocess;
            return Task.FromResult<LoadStart>(Matched is { } matched ? new LoadStart.Skipped(matched) : new LoadStart.Started(this));
        }

        public Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default)
        {
            PassOne(recordIndex);
            _keys.Add(recordIndex);
            return ValueTask.CompletedTask;
        }

        public ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default)
        {
            PassOne(recordIndex);
            Rejects.Add((recordIndex, recordId, reason));
            return ValueTask.CompletedTask;
        }

        public ValueTask EndKeysAsync(CancellationToken cancellationToken = default)
        {
            _keysEnded.Should().BeFalse();
            _keysEnded = true;
            return ValueTask.CompletedTask;
        }

        public ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
        {
            _keysEnded.Should().BeTrue("records come after the keys");
            recordIndex.Should().Be(_keys[Records.Count], "pass two adds the keys of pass one in order");
            Records.Add((recordIndex, recordId, Encoding.UTF8.GetString(utf8Json.Span)));
            return ValueTask.CompletedTask;
        }

        public Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default)
        {
            _keysEnded.Should().BeTrue();
            Records.Should().HaveCount(_keys.Count);
            Completed = true;
            return Task.FromResult(new LoadResult(Records.Count, Rejects.Count, 0, 0));
        }

        public Task FailAsync(string error, CancellationToken cancellationToken = default)
        {
            _keysEnded.Should().BeFalse("a run fails instead of ending its keys");
            FailedWith = error;
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }

        private void PassOne(long recordIndex)
        {
            _keysEnded.Should().BeFalse("keys and rejects come first");
            recordIndex.Should().Be(_next++);
        }
    }
}
