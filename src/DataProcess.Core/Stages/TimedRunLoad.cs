using System.Diagnostics;
using DataProcess.Core.Ports;

namespace DataProcess.Core.Stages;

/// <summary>
/// A load that counts the time spent handing records to the sink, so the run's timings can tell reading and merging
/// from copying without timing code in the merge loop. A synchronously completed add (the common case: the sink
/// buffers) costs two timestamps and no allocation.
/// </summary>
internal sealed class TimedRunLoad(IRunLoad load) : IRunLoad
{
    private long _recordTicks;

    /// <summary>Seconds spent in <see cref="AddRecordAsync"/>.</summary>
    public double RecordSeconds => (double)_recordTicks / Stopwatch.Frequency;

    public ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default) =>
        load.AddKeyAsync(recordIndex, recordId, cancellationToken);

    public ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default) =>
        load.AddRejectAsync(recordIndex, recordId, reason, cancellationToken);

    public ValueTask EndKeysAsync(CancellationToken cancellationToken = default) => load.EndKeysAsync(cancellationToken);

    public ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var adding = load.AddRecordAsync(recordIndex, recordId, utf8Json, cancellationToken);
        if (adding.IsCompletedSuccessfully)
        {
            _recordTicks += Stopwatch.GetTimestamp() - started;
            return adding;
        }

        return AwaitAsync(adding, started);
    }

    public Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default) => load.CompleteAsync(cancellationToken);

    public Task FailAsync(string error, CancellationToken cancellationToken = default) => load.FailAsync(error, cancellationToken);

    public ValueTask DisposeAsync() => load.DisposeAsync();

    private async ValueTask AwaitAsync(ValueTask adding, long started)
    {
        try
        {
            await adding;
        }
        finally
        {
            _recordTicks += Stopwatch.GetTimestamp() - started;
        }
    }
}
