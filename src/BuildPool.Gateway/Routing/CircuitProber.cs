using System.Net.Sockets;
using System.Security.Authentication;
using BuildPool.Http2;

namespace BuildPool.Gateway.Routing;

/// <summary>
/// Puts builders whose circuit opened back in placement: every interval each gets one connect
/// (given up after <see cref="AttemptTimeout"/>), and the first that succeeds closes its circuit.
/// Both gateway modes use it, each with its own way to connect; all waits are on the injected clock.
/// </summary>
/// <param name="circuits">The circuits to probe and close.</param>
/// <param name="connect">
/// Connects to a builder (and lets go of the connection again); false when the builder is not
/// known any more. Throws when the builder is still down.
/// </param>
/// <param name="recovered">Called for each builder whose probe succeeded (after its circuit closed).</param>
/// <param name="interval">How often open builders are probed.</param>
/// <param name="timeProvider">The clock of the interval and the attempt timeout.</param>
public sealed class CircuitProber(
    BackendCircuits circuits,
    Func<string, CancellationToken, Task<bool>> connect,
    Action<string> recovered,
    TimeSpan interval,
    TimeProvider timeProvider)
{
    /// <summary>How long one probe may take to connect.</summary>
    public static TimeSpan AttemptTimeout { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Probes until <paramref name="stopping"/> fires.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                foreach (var id in circuits.OpenBackends)
                {
                    await ProbeAsync(id, stopping).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task ProbeAsync(string id, CancellationToken stopping)
    {
        try
        {
            using var attempt = new CancellationTokenSource(AttemptTimeout, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(attempt.Token, stopping);
            if (await connect(id, linked.Token).ConfigureAwait(false))
            {
                circuits.RecordSuccess(id);
                recovered(id);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or AuthenticationException or Http2ConnectionException
            || (ex is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            // Still down; try again next tick.
        }
    }
}
