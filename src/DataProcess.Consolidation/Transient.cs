using DataProcess.Postgres;

namespace DataProcess.Consolidation;

internal static class Transient
{
    /// <summary>Reports a database outage as <see cref="DatabaseUnavailableException"/>, so Step Functions retries the task.</summary>
    public static async Task<T> RetryableAsync<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (e is not DatabaseUnavailableException && PostgresRecordSink.IsTransient(e))
        {
            throw new DatabaseUnavailableException($"the database is unavailable (it may be resuming from auto-pause): {e.Message}", e);
        }
    }
}
