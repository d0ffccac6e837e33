using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DataProcess.Anonymization;
using DataProcess.Consolidation;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Enrichment;

namespace DataProcess.Cli;

/// <summary>The five functions of the state machine, hosted in this process.</summary>
internal sealed record WorkflowFunctions(
    Func<Stream, Task<Stream>> ReplayCheck,
    Func<Stream, Task<Stream>> Enrichment,
    Func<Stream, Task<Stream>> Anonymization,
    Func<Stream, Task<Stream>> Consolidation,
    Func<Stream, Task<Stream>> RecordFailure)
{
    /// <summary>Every function over one store; <paramref name="quarantine"/> as the deployed RecordFailure does.</summary>
    public static WorkflowFunctions Create(IObjectStore store, IRecordSink sink, IHmacKeySource keys, bool quarantine) => new(
        new ReplayCheckFunction(store, sink).HandleAsync,
        new EnrichmentFunction(store).HandleAsync,
        new AnonymizationFunction(store, keys).HandleAsync,
        new ConsolidationFunction(store, sink).HandleAsync,
        new RunFailureFunction(store, sink, quarantine).HandleAsync);

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

/// <summary>
/// One execution of <c>workflow.asl.json</c> on this machine: the same functions, called with the same JSON
/// payloads, in the same order. The replay check first (an already loaded source version ends there);
/// Enrichment and Anonymization side by side; Consolidation; on any error, the failure path.
/// </summary>
internal static class Workflow
{
    /// <param name="stagesDone">Called between the Parallel state and Consolidation, with both stage results.</param>
    public static async Task<RunSummary> RunAsync(WorkflowFunctions functions, StageRequest request, Func<IReadOnlyList<StageResult>, Task>? stagesDone = null)
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
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // What the state machine's Catch passes on: the error's type and a Lambda-style cause. A cancelled run is
            // not recorded as failed.
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
        foreach (var stage in (string[])[Core.Staging.ConsolidationStage.Enrichment, Core.Staging.ConsolidationStage.Anonymization])
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
