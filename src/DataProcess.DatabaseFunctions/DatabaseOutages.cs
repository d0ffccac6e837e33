using DataProcess.Postgres;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// Retries nothing itself: a database outage leaves a handler as <see cref="DatabaseUnavailableException"/>, the
/// error name the state machine retries with a longer backoff (Aurora resuming from auto-pause takes seconds).
/// </summary>
internal static class DatabaseOutages
{
    /// <summary>Runs <paramref name="work"/>; a transient database failure comes out as <see cref="DatabaseUnavailableException"/>.</summary>
    public static async Task<T> ReportAsUnavailableAsync<T>(Func<Task<T>> work)
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
