using System.Diagnostics;
using DataProcess.Anonymization;
using DataProcess.DatabaseFunctions;
using DataProcess.Local;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Enrichment;

namespace DataProcess.Cli;

/// <summary>Byte counters the progress display polls while a run is under way.</summary>
internal sealed class RunProgress
{
    private long _enrichment;
    private long _anonymization;
    private long _consolidation;

    public long SourceBytes { get; set; }

    public long Enrichment => Interlocked.Read(ref _enrichment);

    public long Anonymization => Interlocked.Read(ref _anonymization);

    public long Consolidation => Interlocked.Read(ref _consolidation);

    /// <summary>Size of the anonymization output, which Consolidation reads; known once both stages ended.</summary>
    public long StagedBytes { get; set; }

    public Action<long> Counter(string stage) => stage switch
    {
        "enrichment" => n => Interlocked.Add(ref _enrichment, n),
        "anonymization" => n => Interlocked.Add(ref _anonymization, n),
        _ => n => Interlocked.Add(ref _consolidation, n),
    };
}

/// <summary>The result of a local run, with what the summary line needs beyond the handler's payload.</summary>
internal sealed record LocalRunResult(RunSummary Summary, long SourceBytes, double Seconds);

/// <summary>
/// Runs the pipeline on one machine the way the state machine runs it in AWS (<see cref="Workflow"/>), on a
/// directory store under the local directory; the local failure path records the run but never moves the input.
/// </summary>
/// <remarks>
/// The input is named in the ledger by its full path (<c>file:/data/exports/customers.json</c>): two files of the
/// same name in different folders are different sources, and a source's rows are replaced by its next load. The
/// stage outputs go to <c>store/staging/runs/&lt;run&gt;/</c> and are removed when the run ends, whatever happened;
/// what a killed process (SIGKILL, a crash) left there is removed at the next run's start (<see cref="LocalRunClaim"/>).
/// </remarks>
/// <param name="wrapStore">Lets tests put a fault-injecting store (a full disk) in front of the directory store.</param>
internal sealed class LocalPipeline(IRecordSink sink, IHmacKeySource keys, string localDirectory, Func<IObjectStore, IObjectStore>? wrapStore = null)
{
    /// <summary>The bucket of the input: the file system, from its root, so the ledger names a file by its full path.</summary>
    private const string SourceBucket = "file:";
    private const string ProfileBucket = "profiles";
    private const string StagingBucket = "staging";
    private const string StagingPrefix = "runs";

    public async Task<LocalRunResult> RunAsync(string inputPath, string profilePath, RunProgress progress, CancellationToken cancellationToken, bool reprocess = false)
    {
        var stopwatch = Stopwatch.StartNew();
        var input = new FileInfo(inputPath);
        var profileFile = new FileInfo(profilePath);
        var storeRoot = Path.Combine(localDirectory, "store");
        var root = Path.GetPathRoot(input.FullName)!;
        IObjectStore store = new DirectoryObjectStore(storeRoot)
            .MapBucket(SourceBucket, root)
            .MapBucket(ProfileBucket, profileFile.DirectoryName!);
        store = wrapStore?.Invoke(store) ?? store;

        var claims = Path.Combine(localDirectory, "runs");
        LocalRunClaim.RemoveAbandoned(claims, Path.Combine(storeRoot, StagingBucket, StagingPrefix));

        var source = new ObjectRef(SourceBucket, Path.GetRelativePath(root, input.FullName).Replace(Path.DirectorySeparatorChar, '/'));
        progress.SourceBytes = input.Length;
        var head = await store.HeadAsync(source, cancellationToken);
        var request = new StageRequest
        {
            RunId = Guid.NewGuid(),
            StartedAt = DateTimeOffset.UtcNow,
            Source = source,
            SourceETag = head.ETag,
            Profile = new ObjectRef(ProfileBucket, profileFile.Name),
            Staging = new StagingLocation(StagingBucket, StagingPrefix),
            Reprocess = reprocess,
        };

        using var claim = LocalRunClaim.Take(claims, request.RunId);
        var runStore = RunCancellation.Store(store, cancellationToken);
        var functions = WorkflowFunctions.Create(store, sink, keys, quarantine: false, cancellationToken) with
        {
            Enrichment = new EnrichmentFunction(new CountingObjectStore(runStore, progress.Counter("enrichment"))).HandleAsync,
            Anonymization = new AnonymizationFunction(new CountingObjectStore(runStore, progress.Counter("anonymization")), keys).HandleAsync,
            Consolidation = new ConsolidationFunction(new CountingObjectStore(runStore, progress.Counter("consolidation")), RunCancellation.Sink(sink, cancellationToken)).HandleAsync,
        };

        try
        {
            var summary = await Workflow.RunAsync(functions, request, cancellationToken, async stages =>
                progress.StagedBytes = (await store.HeadAsync(stages.First(s => s.Stage == Core.Stages.ConsolidationStage.Anonymization).Output, cancellationToken)).Size);
            return new LocalRunResult(summary, input.Length, stopwatch.Elapsed.TotalSeconds);
        }
        finally
        {
            // The stage outputs are of no use once the run ended (loaded, failed or cancelled) and would pile up
            // under the local directory: remove them, and with them the run's directory.
            await Workflow.DeleteStagingAsync(store, request);
        }
    }

    /// <summary>Counts the bytes each stage reads, for the progress display.</summary>
    private sealed class CountingObjectStore(IObjectStore inner, Action<long> count) : IObjectStore
    {
        public Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default) => inner.HeadAsync(obj, cancellationToken);

        public async Task<Stream> OpenReadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
        {
            var stream = await inner.OpenReadAsync(obj, cancellationToken);
            return obj.Bucket == ProfileBucket ? stream : new CountingStream(stream, count);
        }

        public Task<ObjectInfo> WriteAsync(ObjectRef obj, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(obj, produce, cancellationToken);

        public Task MoveAsync(ObjectRef from, ObjectRef to, CancellationToken cancellationToken = default) => inner.MoveAsync(from, to, cancellationToken);

        public Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default) => inner.DeleteAsync(obj, cancellationToken);
    }

    private sealed class CountingStream(Stream inner, Action<long> count) : ForwardingReadStream(inner)
    {
        public override int Read(byte[] buffer, int offset, int count) => Counted(Inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await Inner.ReadAsync(buffer, cancellationToken));

        private int Counted(int read)
        {
            count(read);
            return read;
        }
    }
}
