using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DataProcess.Anonymization;
using DataProcess.DatabaseFunctions;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Enrichment;

namespace DataProcess.Cli;

/// <summary>
/// The five functions of the state machine, hosted in this process, and the failure path of a cancelled run
/// (which records the run but never quarantines its source: it did not fail, it was stopped).
/// </summary>
internal sealed record WorkflowFunctions(
    Func<Stream, Task<Stream>> ReplayCheck,
    Func<Stream, Task<Stream>> Enrichment,
    Func<Stream, Task<Stream>> Anonymization,
    Func<Stream, Task<Stream>> Consolidation,
    Func<Stream, Task<Stream>> RecordFailure,
    Func<Stream, Task<Stream>> RecordCancellation)
{
    /// <summary>
    /// Every function over one store; <paramref name="quarantine"/> as the deployed RecordFailure does. The run's
    /// tasks stop when <paramref name="cancellation"/> is cancelled (see <see cref="RunCancellation"/>); the failure
    /// paths still run.
    /// </summary>
    public static WorkflowFunctions Create(IObjectStore store, IRecordSink sink, IHmacKeySource keys, bool quarantine, CancellationToken cancellation = default)
    {
        var runStore = RunCancellation.Store(store, cancellation);
        var runSink = RunCancellation.Sink(sink, cancellation);
        return new(
            new ReplayCheckFunction(runStore, runSink, keys).HandleAsync,
            new EnrichmentFunction(runStore).HandleAsync,
            new AnonymizationFunction(runStore, keys).HandleAsync,
            new ConsolidationFunction(runStore, runSink).HandleAsync,
            new RecordFailureFunction(store, sink, quarantine).HandleAsync,
            new RecordFailureFunction(store, sink, quarantine: false).HandleAsync);
    }

    /// <summary>The functions by the end of their Terraform names (<c>&lt;project&gt;-&lt;environment&gt;-enrichment</c> …).</summary>
    public IReadOnlyList<(string Suffix, Func<Stream, Task<Stream>> Handler)> BySuffix() =>
    [
        ("-enrichment", Enrichment),
        ("-anonymization", Anonymization),
        ("-consolidation", Consolidation),
        ("-record-failure", RecordFailure),
        ("-replay-check", ReplayCheck),
    ];
}

/// <summary>A run was cancelled (Ctrl-C, SIGTERM) and recorded as failed with the reason <see cref="Reason"/>.</summary>
internal sealed class RunCancelledException(Guid runId, Exception inner)
    : OperationCanceledException($"run {runId:D} was cancelled", inner)
{
    public const string Reason = "cancelled";

    public Guid RunId { get; } = runId;
}

/// <summary>
/// One execution of <c>workflow.asl.json</c> on this machine: the same functions, called with the same JSON
/// payloads, in the same order. The replay check first (an already loaded identity ends there);
/// Enrichment and Anonymization side by side; Consolidation; on any error, the failure path.
/// </summary>
internal static class Workflow
{
    /// <param name="cancellationToken">The token the functions were created with: once it is cancelled, the run is recorded as failed ("cancelled").</param>
    /// <param name="stagesDone">Called between the Parallel state and Consolidation, with both stage results.</param>
    public static async Task<RunSummary> RunAsync(WorkflowFunctions functions, StageRequest request, CancellationToken cancellationToken = default, Func<IReadOnlyList<StageResult>, Task>? stagesDone = null)
    {
        try
        {
            var check = await InvokeAsync(functions.ReplayCheck, request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.ReplayCheck);
            if (check is { AlreadyLoaded: true, Summary: { } skipped })
            {
                return skipped;
            }

            // The Parallel state: both branches run, the first error wins.
            var enriching = InvokeAsync(functions.Enrichment, request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.StageResult);
            var anonymizing = InvokeAsync(functions.Anonymization, request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.StageResult);
            await Task.WhenAll(enriching, anonymizing);
            IReadOnlyList<StageResult> stages = [await enriching, await anonymizing];
            if (stagesDone is not null)
            {
                await stagesDone(stages);
            }

            return await InvokeAsync(functions.Consolidation, ConsolidationRequest.After(request, stages), PayloadJsonContext.Default.ConsolidationRequest, PayloadJsonContext.Default.RunSummary);
        }
        catch (Exception error) when (cancellationToken.IsCancellationRequested)
        {
            // Whatever the cancellation broke first (a read, the COPY, a wait for the lock), the run was stopped.
            var failure = RunFailure.Of(request, new CaughtError { Error = RunCancelledException.Reason });
            await InvokeAsync(functions.RecordCancellation, failure, PayloadJsonContext.Default.RunFailure, PayloadJsonContext.Default.FailureRecorded);
            throw new RunCancelledException(request.RunId, error);
        }
        catch (Exception error)
        {
            // What the state machine's Catch passes on: the error's type and a Lambda-style cause.
            var failure = RunFailure.Of(request, new CaughtError
            {
                Error = error.GetType().Name,
                Cause = JsonSerializer.Serialize(new Dictionary<string, string> { ["errorType"] = error.GetType().Name, ["errorMessage"] = error.Message }, CliJsonContext.Default.DictionaryStringString),
            });
            await InvokeAsync(functions.RecordFailure, failure, PayloadJsonContext.Default.RunFailure, PayloadJsonContext.Default.FailureRecorded);
            throw;
        }
    }

    /// <summary>Removes a run's stage outputs (none, one or both may exist).</summary>
    public static async Task DeleteStagingAsync(IObjectStore store, StageRequest request)
    {
        foreach (var stage in (string[])[Core.Stages.ConsolidationStage.Enrichment, Core.Stages.ConsolidationStage.Anonymization])
        {
            try
            {
                await store.DeleteAsync(request.Staging.For(request.RunId, stage), CancellationToken.None);
            }
            catch (IOException)
            {
                // Never written (DirectoryNotFoundException is an IOException): nothing to remove.
            }
        }
    }

    /// <summary>Calls a handler exactly as Lambda does: a JSON stream in, a JSON stream out.</summary>
    private static async Task<TOut> InvokeAsync<TIn, TOut>(Func<Stream, Task<Stream>> handler, TIn payload, JsonTypeInfo<TIn> input, JsonTypeInfo<TOut> output)
    {
        // Start each handler on the thread pool, so the two stages really run side by side.
        await Task.Yield();
        return await PayloadSerializer.InvokeAsync(handler, payload, input, output);
    }
}
