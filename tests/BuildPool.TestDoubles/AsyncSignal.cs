namespace BuildPool.TestDoubles;

/// <summary>
/// Wakes every waiter when shared state changed, so waits are conditions, never fixed sleeps.
/// A waiter takes the current task before it checks its condition: a change between the check and
/// the wait completes that task, so no change is missed.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _changed = NewSource();

    public Task Next => Volatile.Read(ref _changed).Task;

    public void Pulse() => Interlocked.Exchange(ref _changed, NewSource()).TrySetResult();

    /// <summary>True once <paramref name="condition"/> holds; false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var next = Next;
            if (condition())
            {
                return true;
            }

            try
            {
                await next.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return condition();
            }
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
