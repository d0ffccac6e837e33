using DataProcess.Core.Ports;
using DataProcess.Core.Stages;

namespace DataProcess.Core.Tests.Stages;

public sealed class TimedRunLoadTests
{
    [Fact]
    public async Task Counts_the_time_a_record_add_waits_for_the_sink_and_not_the_time_of_keys()
    {
        var inner = new SlowLoad(TimeSpan.FromMilliseconds(60));
        await using var load = new TimedRunLoad(inner);

        await load.AddKeyAsync(0, "a");
        load.RecordSeconds.Should().Be(0, "a key is not a record");

        await load.AddRecordAsync(0, "a", "{}"u8.ToArray());
        await load.AddRecordAsync(1, "b", "{}"u8.ToArray());

        inner.Records.Should().Equal("a", "b");
        load.RecordSeconds.Should().BeGreaterThanOrEqualTo(0.1, "two adds each waited at least 60 ms for the sink");
    }

    [Fact]
    public async Task Counts_a_record_add_that_fails_and_passes_the_failure_on()
    {
        var inner = new SlowLoad(TimeSpan.FromMilliseconds(30)) { Refuse = true };
        await using var load = new TimedRunLoad(inner);

        var adding = async () => await load.AddRecordAsync(0, "a", "{}"u8.ToArray());

        await adding.Should().ThrowAsync<RecordRefusedException>();
        load.RecordSeconds.Should().BeGreaterThan(0);
    }

    private sealed class SlowLoad(TimeSpan delay) : IRunLoad
    {
        public List<string> Records { get; } = [];

        public bool Refuse { get; init; }

        public ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask EndKeysAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public async ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
        {
            await Task.Delay(delay, cancellationToken);
            if (Refuse)
            {
                throw new RecordRefusedException(recordIndex, "refused");
            }

            Records.Add(recordId);
        }

        public Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task FailAsync(string error, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
