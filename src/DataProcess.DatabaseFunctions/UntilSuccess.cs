namespace DataProcess.DatabaseFunctions;

/// <summary>
/// A value made on first use and kept once made, like <c>Lazy&lt;Task&lt;T&gt;&gt;</c>, except that a failed attempt
/// is not kept: the next caller tries again. A warm Lambda container whose first connection failed (Aurora resuming
/// from auto-pause, a restart) would otherwise fail every later invocation at once, every workflow retry included.
/// Callers during one attempt share it.
/// </summary>
internal sealed class UntilSuccess<T>(Func<Task<T>> create)
{
    private readonly Lock _gate = new();
    private Task<T>? _attempt;

    public Task<T> Value
    {
        get
        {
            lock (_gate)
            {
                if (_attempt is null || _attempt.IsFaulted || _attempt.IsCanceled)
                {
                    _attempt = AttemptAsync();
                }

                return _attempt;
            }
        }
    }

    /// <summary>An exception <paramref name="create"/> throws before its first await also ends up in the task.</summary>
    private async Task<T> AttemptAsync() => await create().ConfigureAwait(false);
}
