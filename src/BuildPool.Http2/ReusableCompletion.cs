using System.Threading.Tasks.Sources;

namespace BuildPool.Http2;

/// <summary>
/// An awaitable completed by the writer loop, reused for every write of one stream so a DATA
/// frame costs no allocation. One operation at a time: the stream enforces that.
/// </summary>
internal sealed class ReusableCompletion : IValueTaskSource
{
    // Continuations run on the thread pool unless the completer asks otherwise (see SetResultInline).
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    public ValueTask Start()
    {
        _core.Reset();
        _core.RunContinuationsAsynchronously = true;
        return new ValueTask(this, _core.Version);
    }

    public void SetResult() => _core.SetResult(true);

    /// <summary>
    /// Completes and runs the waiting writer's continuation on this thread. The writer loop uses
    /// it for DATA: the continuation runs only until the writer's next await (it queues its next
    /// chunk and waits again), and skipping a thread-pool hop per chunk is a large share of the
    /// forwarding cost on a busy machine.
    /// </summary>
    public void SetResultInline()
    {
        _core.RunContinuationsAsynchronously = false;
        _core.SetResult(true);
    }

    public void SetException(Exception error) => _core.SetException(error);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
