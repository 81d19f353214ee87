namespace BuildPool.Gateway.Builds;

/// <summary>
/// Whether a build ref's <c>Solve</c> is on its way to the builder. buildkitd gives up on a build
/// it has not seen (Status after 6 s, LLBBridge calls after 3 s), and buildx sends those calls
/// while its Solve still waits at the gateway, so they wait here until the Solve is forwarded,
/// and fail with the Solve's own status when it never is.
/// </summary>
internal sealed class SolveGate
{
    private readonly TaskCompletionSource<SolveGateResult> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<SolveGateResult> Opened => _opened.Task;

    public bool IsOpen => _opened.Task.IsCompleted;

    /// <summary>
    /// Waits until the Solve is forwarded or ended. Before the Solve arrived (<paramref name="solveSeen"/>),
    /// at most <paramref name="arrivalWait"/>: a Status of a build this gateway never sees still
    /// reaches the builder, which answers for it. Once it arrived, for as long as the Solve waits.
    /// </summary>
    public async Task<SolveGateResult> WaitAsync(Func<bool> solveSeen, TimeSpan arrivalWait, TimeProvider time, CancellationToken cancellationToken)
    {
        while (!IsOpen && !solveSeen())
        {
            try
            {
                return await _opened.Task.WaitAsync(arrivalWait, time, cancellationToken);
            }
            catch (TimeoutException) when (!solveSeen())
            {
                return SolveGateResult.Forward;
            }
            catch (TimeoutException)
            {
                // The Solve arrived meanwhile: wait for it below.
            }
        }

        return await _opened.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The Solve is being forwarded: the build's other calls follow it.</summary>
    public void Open() => _opened.TrySetResult(SolveGateResult.Forward);

    /// <summary>The Solve ended before it reached a builder: the build's other calls end as it did.</summary>
    public void Close(int grpcStatus, string message) => _opened.TrySetResult(new SolveGateResult(grpcStatus, message));
}
