using System.Collections.Concurrent;
using System.Threading.Channels;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Routing;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// The gateway's side of docs/lifecycle.md: asks the operator for stopped builders and for
/// Dedicated volumes (with the tenant that asked), holds builds until their builder is ready or
/// the pool's start timeout passes, and keeps used builders alive (at most one heartbeat a minute
/// per volume). Every request is a signal on the pool's signal Lease (<see cref="GatewaySignals"/>),
/// the one object the gateway may write.
/// </summary>
/// <remarks>
/// Requests are de-duplicated per volume or key and written by one loop (<see cref="RunAsync"/>),
/// so a burst of builds for one cold builder costs one API call, and routing never waits on the API.
/// </remarks>
public sealed class KubernetesBuilderStarter : IBuilderStarter
{
    private readonly ResourceClient<V1Lease> _signals;
    private readonly string _namespace;
    private readonly string _pool;
    private readonly TimeProvider _time;
    private readonly KubernetesBuilderStarterOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Write> _writes = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, long> _demanded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _volumeRequested = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _usedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _heartbeatAt = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _startTimeoutTicks;
    private int _heartbeatQueued;

    public KubernetesBuilderStarter(
        ResourceClient<V1Lease> signals,
        string @namespace,
        string pool,
        TimeSpan startTimeout,
        TimeProvider? timeProvider = null,
        KubernetesBuilderStarterOptions? options = null,
        ILogger<KubernetesBuilderStarter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(pool);
        _signals = signals;
        _namespace = @namespace;
        _pool = pool;
        _time = timeProvider ?? TimeProvider.System;
        _options = options ?? new KubernetesBuilderStarterOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        StartTimeout = startTimeout;
    }

    /// <summary>The pool's <c>spec.scaling.startTimeout</c>; discovery updates it when the pool changes.</summary>
    public TimeSpan StartTimeout
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _startTimeoutTicks));
        set => Interlocked.Exchange(ref _startTimeoutTicks, Math.Max(0, value.Ticks));
    }

    /// <summary>Discovery swapped the backend set: waiting builds look again.</summary>
    public void BackendsChanged() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    public async Task<string?> WaitForBuilderAsync(Placement placement, string key, PlacementDecision decision, string? tenant = null)
    {
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(key);
        var timeout = StartTimeout;
        var started = _time.GetTimestamp();
        if (decision.Backend is { } first)
        {
            DiscoveryLog.Holding(_logger, key, first.Id, first.State.ToString(), timeout);
        }
        else
        {
            DiscoveryLog.AwaitingVolume(_logger, key, _pool, timeout);
        }

        while (true)
        {
            // Take the signal before looking, so a change in between wakes us rather than being missed.
            var changed = Volatile.Read(ref _changed).Task;
            if (decision.Backend is { State: BackendState.Ready } ready)
            {
                DiscoveryLog.Started(_logger, key, ready.Id, _time.GetElapsedTime(started).TotalMilliseconds);
                return null;
            }

            if (decision.NeedsStart)
            {
                RequestStart(decision.Backend!.Id);
            }
            else if (decision.Outcome == PlacementOutcome.AwaitingVolume)
            {
                RequestVolume(key, tenant);
            }

            var remaining = timeout - _time.GetElapsedTime(started);
            try
            {
                if (remaining <= TimeSpan.Zero)
                {
                    throw new TimeoutException();
                }

                await changed.WaitAsync(remaining, _time, _stopping.Token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                var reason = decision.Backend is { } backend
                    ? $"builder {backend.Id} of pool {_pool} did not become ready within {GoDuration.Format(timeout)} (it is {backend.State})"
                    : $"pool {_pool} is creating a cache volume for key {key}; it was not ready within {GoDuration.Format(timeout)}";
                DiscoveryLog.StartTimedOut(_logger, key, reason);
                return reason;
            }
            catch (OperationCanceledException)
            {
                return "the gateway is stopping";
            }

            decision = placement.Place(key);
        }
    }

    public void RequestVolume(string key, string? tenant)
    {
        if (!string.IsNullOrEmpty(key) && Due(_volumeRequested, key, _options.DemandInterval))
        {
            _writes.Writer.TryWrite(new Write(WriteKind.PoolDemand, key, tenant));
        }
    }

    public void Used(string backendId)
    {
        var now = _time.GetTimestamp();
        _usedAt[backendId] = now;
        if (!_heartbeatAt.TryGetValue(backendId, out var last) || _time.GetElapsedTime(last, now) >= _options.HeartbeatInterval)
        {
            if (Interlocked.Exchange(ref _heartbeatQueued, 1) == 0)
            {
                _writes.Writer.TryWrite(new Write(WriteKind.Heartbeats, string.Empty));
            }
        }
    }

    /// <summary>Writes the requested signals until cancelled; failures are logged and asked again by the next build.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _stopping);
        try
        {
            await foreach (var write in _writes.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                switch (write.Kind)
                {
                    case WriteKind.VolumeDemand:
                        await SignalAsync(GatewaySignals.Start(write.Name, _time.GetUtcNow()), write.Name, _demanded, cancellationToken).ConfigureAwait(false);
                        break;
                    case WriteKind.PoolDemand:
                        await SignalAsync(GatewaySignals.Demand(write.Name, write.Tenant, _time.GetUtcNow()), write.Name, _volumeRequested, cancellationToken).ConfigureAwait(false);
                        break;
                    case WriteKind.Heartbeats:
                        Volatile.Write(ref _heartbeatQueued, 0);
                        await WriteHeartbeatsAsync(cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void RequestStart(string volume)
    {
        if (Due(_demanded, volume, _options.DemandInterval))
        {
            _writes.Writer.TryWrite(new Write(WriteKind.VolumeDemand, volume));
        }
    }

    // True for the first caller per interval; the others coalesce into its write.
    private bool Due(ConcurrentDictionary<string, long> last, string name, TimeSpan interval)
    {
        var now = _time.GetTimestamp();
        while (true)
        {
            if (!last.TryGetValue(name, out var at))
            {
                if (last.TryAdd(name, now))
                {
                    return true;
                }

                continue;
            }

            if (_time.GetElapsedTime(at, now) < interval)
            {
                return false;
            }

            if (last.TryUpdate(name, now, at))
            {
                return true;
            }
        }
    }

    private async Task WriteHeartbeatsAsync(CancellationToken cancellationToken)
    {
        foreach (var (volume, usedAt) in _usedAt)
        {
            if (_heartbeatAt.TryGetValue(volume, out var last) && (last >= usedAt || _time.GetElapsedTime(last) < _options.HeartbeatInterval))
            {
                continue;
            }

            _heartbeatAt[volume] = _time.GetTimestamp();
            await SignalAsync(GatewaySignals.Used(volume, _time.GetUtcNow()), volume, _heartbeatAt, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SignalAsync(KeyValuePair<string, string> signal, string subject, ConcurrentDictionary<string, long> dedupe, CancellationToken cancellationToken)
    {
        var lease = GatewaySignals.LeaseName(_pool);
        try
        {
            var annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [signal.Key] = signal.Value };
            await _signals.PatchAsync(_namespace, lease, new { metadata = new { annotations } }, cancellationToken).ConfigureAwait(false);
            DiscoveryLog.Wrote(_logger, signal.Key, signal.Value, "Lease", lease);
        }
#pragma warning disable CA1031 // Any failure (API error, network, client timeout) is one lost write, never the end of the loop.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            // Forget the write so the next build (or heartbeat) asks again rather than waiting out the interval.
            dedupe.TryRemove(subject, out _);
            DiscoveryLog.WriteFailed(_logger, ex, signal.Key, "Lease", lease);
        }
    }

    private enum WriteKind
    {
        VolumeDemand,
        PoolDemand,
        Heartbeats,
    }

    private readonly record struct Write(WriteKind Kind, string Name, string? Tenant = null);
}
