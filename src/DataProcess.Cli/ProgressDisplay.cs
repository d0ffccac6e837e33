using Spectre.Console;

namespace DataProcess.Cli;

/// <summary>
/// Live progress bars on a terminal; nothing when the output is redirected (CI logs stay readable).
/// </summary>
internal static class ProgressDisplay
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(150);

    public static async Task<T> RunAsync<T>(CliConsole console, RunProgress progress, Func<Task<T>> work)
    {
        if (!console.Interactive)
        {
            return await work();
        }

        T result = default!;
        await console.Ansi.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var enrichment = context.AddTask("enrichment");
                var anonymization = context.AddTask("anonymization");
                var consolidation = context.AddTask("consolidation");
                var running = work();
                while (!running.IsCompleted)
                {
                    Update(enrichment, progress.Enrichment, progress.SourceBytes);
                    Update(anonymization, progress.Anonymization, progress.SourceBytes);
                    Update(consolidation, progress.Consolidation, progress.StagedBytes);
                    context.Refresh();
                    await Task.WhenAny(running, Task.Delay(Refresh));
                }

                result = await running;
                foreach (var task in new[] { enrichment, anonymization, consolidation })
                {
                    task.Value = task.MaxValue;
                }
            });
        return result;
    }

    private static void Update(ProgressTask task, long done, long total)
    {
        if (total > 0)
        {
            task.MaxValue = total;
            task.Value = Math.Min(done, total);
        }
    }
}
