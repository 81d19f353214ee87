using System.Collections.Concurrent;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Admission;
using BuildPool.Gateway.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// The gateway's side of docs/lifecycle.md: asks the operator for stopped builders and for
/// Dedicated volumes (with the tenant that asked), holds builds until their builder is ready or
/// the pool's start timeout passes, and keeps used builders alive (at most one heartbeat a minute
/// per volume). Every request is a signal on the pool's signal Lease (<see cref="GatewaySignals"/>),
/// the one object the gateway may write, written by the <see cref="SignalLeaseWriter"/>.
/// </summary>
/// <remarks>
/// Requests are de-duplicated per volume or key and written by one loop, so a burst of builds for
/// one cold builder costs one API call, and routing never waits on the API. A key's volume request
/// (its demand) lives as long as a build of this gateway waits for it: when the last one ends
/// without its volume (it gave up, or its client went away) the demand is withdrawn, rather than
/// left for the operator to act on until the demand TTL drops it.
/// </remarks>
public sealed class KubernetesBuilderStarter : IBuilderStarter
{
    private readonly SignalLeaseWriter _writer;
    private readonly string _pool;
    private readonly TimeProvider _time;
    private readonly KubernetesBuilderStarterOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, long> _demanded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _volumeRequested = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _heartbeatAt = new(StringComparer.Ordinal);

    // Keys whose builds wait here for a volume, how many, and the demand last asked for each.
    private readonly Dictionary<string, (int Waiting, string? Demand)> _volumeWaits = new(StringComparer.Ordinal);
    private readonly Lock _volumeWaitsLock = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _startTimeoutTicks;

    public KubernetesBuilderStarter(
        SignalLeaseWriter writer,
        string pool,
        TimeSpan startTimeout,
        TimeProvider? timeProvider = null,
        KubernetesBuilderStarterOptions? options = null,
        ILogger<KubernetesBuilderStarter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentException.ThrowIfNullOrEmpty(pool);
        _writer = writer;
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

    public async Task<string?> WaitForBuilderAsync(Placement placement, string key, PlacementDecision decision, string? tenant = null, CancellationToken cancellationToken = default)
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

        using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _writer.Stopping);
        var waitsForVolume = false;
        string? outcome = "the gateway is stopping";
        try
        {
            while (true)
            {
                // Take the signal before looking, so a change in between wakes us rather than being missed.
                var changed = Volatile.Read(ref _changed).Task;
                if (decision.Backend is { State: BackendState.Ready } ready)
                {
                    DiscoveryLog.Started(_logger, key, ready.Id, _time.GetElapsedTime(started).TotalMilliseconds);
                    return outcome = null;
                }

                if (decision.NeedsStart)
                {
                    RequestStart(decision.Backend!.Id);
                }
                else if (decision.Outcome == PlacementOutcome.AwaitingVolume)
                {
                    if (!waitsForVolume)
                    {
                        waitsForVolume = true;
                        BeginVolumeWait(key);
                    }

                    RequestVolume(key, tenant);
                }

                var remaining = timeout - _time.GetElapsedTime(started);
                try
                {
                    if (remaining <= TimeSpan.Zero)
                    {
                        throw new TimeoutException();
                    }

                    await changed.WaitAsync(remaining, _time, ended.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    var reason = decision.Backend is { } backend
                        ? $"builder {backend.Id} of pool {_pool} did not become ready within {GoDuration.Format(timeout)} (it is {backend.State})"
                        : $"pool {_pool} is creating a cache volume for key {key}; it was not ready within {GoDuration.Format(timeout)}";
                    DiscoveryLog.StartTimedOut(_logger, key, reason);
                    return outcome = reason;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    DiscoveryLog.WaitEnded(_logger, key);
                    return outcome = "the build ended while it waited for its builder";
                }
                catch (OperationCanceledException)
                {
                    return outcome = "the gateway is stopping";
                }

                decision = placement.Place(key);
            }
        }
        finally
        {
            if (waitsForVolume)
            {
                // Served: the operator took the demand when it made the volume. Stopping: nothing writes any more.
                EndVolumeWait(key, withdraw: outcome is not null && !_writer.Stopping.IsCancellationRequested);
            }
        }
    }

    public void RequestVolume(string key, string? tenant)
    {
        if (!string.IsNullOrEmpty(key) && Due(_volumeRequested, key, _options.DemandInterval))
        {
            var demand = GatewaySignals.Demand(key, tenant, _time.GetUtcNow());
            lock (_volumeWaitsLock)
            {
                if (_volumeWaits.TryGetValue(key, out var wait))
                {
                    _volumeWaits[key] = wait with { Demand = demand.Value };
                }
            }

            _writer.Set(demand);
        }
    }

    public void Used(string backendId)
    {
        if (Due(_heartbeatAt, backendId, _options.HeartbeatInterval))
        {
            _writer.Set(GatewaySignals.Used(backendId, _time.GetUtcNow()));
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void RequestStart(string volume)
    {
        if (Due(_demanded, volume, _options.DemandInterval))
        {
            _writer.Set(GatewaySignals.Start(volume, _time.GetUtcNow()));
        }
    }

    private void BeginVolumeWait(string key)
    {
        lock (_volumeWaitsLock)
        {
            _volumeWaits[key] = _volumeWaits.TryGetValue(key, out var wait) ? wait with { Waiting = wait.Waiting + 1 } : (1, null);
        }
    }

    private void EndVolumeWait(string key, bool withdraw)
    {
        string? demand;
        lock (_volumeWaitsLock)
        {
            var wait = _volumeWaits[key];
            if (wait.Waiting > 1)
            {
                _volumeWaits[key] = wait with { Waiting = wait.Waiting - 1 };
                return;
            }

            _volumeWaits.Remove(key);
            demand = wait.Demand;
            // The next build of the key asks at once, whatever the demand interval says.
            _volumeRequested.TryRemove(key, out _);
        }

        if (withdraw && demand is not null)
        {
            _writer.Withdraw(GatewaySignals.DemandName(key), demand, () => WaitsForVolume(key));
        }
    }

    private bool WaitsForVolume(string key)
    {
        lock (_volumeWaitsLock)
        {
            return _volumeWaits.ContainsKey(key);
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
}
