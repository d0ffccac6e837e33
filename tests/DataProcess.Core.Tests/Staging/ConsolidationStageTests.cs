using System.Text;
using DataProcess.Core.Local;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Staging;

namespace DataProcess.Core.Tests.Staging;

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
    public async Task Reports_skipped_when_the_sink_already_loaded_the_source()
    {
        _sink.AlreadyLoaded = true;

        var summary = await new ConsolidationStage(_store, _sink).RunAsync(Request("""{"i":0,"id":"a","r":{}}""", """{"i":0,"id":"a","e":{}}""", records: 1));

        summary.Status.Should().Be("skipped");
        _sink.Records.Should().BeEmpty();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private ConsolidationRequest Request(string anonymized, string enriched, long records)
    {
        var staging = new StagingLocation("staging", "staging");
        Put("staging", $"staging/{RunId:D}/anonymization.ndjson", anonymized + "\n");
        Put("staging", $"staging/{RunId:D}/enrichment.ndjson", enriched + "\n");
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
                Result("anonymization", staging.For(RunId, "anonymization"), records),
                Result("enrichment", staging.For(RunId, "enrichment"), records),
            ],
        };
    }

    private static StageResult Result(string stage, ObjectRef output, long records) => new()
    {
        RunId = RunId,
        Stage = stage,
        Output = output,
        Records = records,
        Rejected = 0,
        BytesRead = 0,
        Seconds = 0,
    };

    private void Put(string bucket, string key, string content)
    {
        var path = Path.Combine(_root, bucket, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>Records what a load receives; the PostgreSQL sink has its own integration tests.</summary>
    private sealed class RecordingSink : IRecordSink, IRunLoad
    {
        public bool AlreadyLoaded { get; set; }

        public RunDescriptor? Run { get; private set; }

        public List<(long, string, string)> Records { get; } = [];

        public List<(long, string?, string)> Rejects { get; } = [];

        public bool Completed { get; private set; }

        public bool Disposed { get; private set; }

        public Task<IRunLoad?> BeginAsync(RunDescriptor run, CancellationToken cancellationToken = default)
        {
            Run = run;
            return Task.FromResult<IRunLoad?>(AlreadyLoaded ? null : this);
        }

        public Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
        {
            Records.Add((recordIndex, recordId, Encoding.UTF8.GetString(utf8Json.Span)));
            return ValueTask.CompletedTask;
        }

        public ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default)
        {
            Rejects.Add((recordIndex, recordId, reason));
            return ValueTask.CompletedTask;
        }

        public Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default)
        {
            Completed = true;
            return Task.FromResult(new LoadResult(Records.Count, Rejects.Count, 0));
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
