using System.Threading.Tasks.Sources;

namespace BuildPool.Gateway.Http2;

/// <summary>
/// An awaitable completed by the writer loop, reused for every write of one stream so a DATA
/// frame costs no allocation. One operation at a time: the stream enforces that.
/// </summary>
internal sealed class ReusableCompletion : IValueTaskSource
{
    // Continuations run on the thread pool so the writer loop never executes caller code.
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    public ValueTask Start()
    {
        _core.Reset();
        return new ValueTask(this, _core.Version);
    }

    public void SetResult() => _core.SetResult(true);

    public void SetException(Exception error) => _core.SetException(error);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
