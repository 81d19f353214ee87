using System.Collections.Concurrent;

namespace BuildPool.Gateway.Routing;

/// <summary>
/// A circuit breaker per builder: after <c>failureThreshold</c> consecutive connect failures
/// (or <c>UNAVAILABLE</c> answers) the builder leaves placement, so its keys go to the ring's
/// next builder instead of failing one build after another; the first success (a probe the
/// server sends to open builders, or any call) puts it back and its keys return. Hand-written
/// because the gateway takes no package dependencies; the state is one counter per builder.
/// </summary>
public sealed class BackendCircuits
{
    private readonly Placement _placement;
    private readonly int _failureThreshold;
    private readonly ConcurrentDictionary<string, Circuit> _circuits = new(StringComparer.Ordinal);

    public BackendCircuits(Placement placement, int failureThreshold = 3)
    {
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentOutOfRangeException.ThrowIfLessThan(failureThreshold, 1);
        _placement = placement;
        _failureThreshold = failureThreshold;
    }

    /// <summary>Builders whose circuit is open: the ones the server should probe.</summary>
    public IReadOnlyList<string> OpenBackends => [.. _circuits.Where(c => c.Value.IsOpen).Select(c => c.Key)];

    public bool IsOpen(string backendId) => _circuits.TryGetValue(backendId, out var circuit) && circuit.IsOpen;

    /// <summary>A connect failure or <c>UNAVAILABLE</c> from <paramref name="backendId"/>.</summary>
    public void RecordFailure(string backendId)
    {
        ArgumentException.ThrowIfNullOrEmpty(backendId);
        var circuit = _circuits.GetOrAdd(backendId, static _ => new Circuit());
        lock (circuit)
        {
            if (++circuit.Failures < _failureThreshold || circuit.IsOpen)
            {
                return;
            }

            circuit.IsOpen = true;
            _placement.SetCircuitOpen(backendId, open: true);
        }
    }

    /// <summary>A call or probe to <paramref name="backendId"/> succeeded.</summary>
    public void RecordSuccess(string backendId)
    {
        // The common case, a healthy builder, takes no lock.
        if (!_circuits.TryGetValue(backendId, out var circuit) || Volatile.Read(ref circuit.Failures) == 0)
        {
            return;
        }

        lock (circuit)
        {
            circuit.Failures = 0;
            if (circuit.IsOpen)
            {
                circuit.IsOpen = false;
                _placement.SetCircuitOpen(backendId, open: false);
            }
        }
    }

    private sealed class Circuit
    {
        public int Failures;
        public bool IsOpen;
    }
}
