using System.Collections.Concurrent;
using System.Globalization;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Discovery;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Isolation;

/// <summary>
/// Pool mode's <see cref="IForkRequester"/>: writes the fork signals of docs/lifecycle.md on the
/// pool's signal Lease (forks wanted per base volume, and one isolate signal per untrusted build,
/// removed when it ends) through the gateway's <see cref="SignalLeaseWriter"/>, so routing never
/// waits on the API and a burst costs one write per change.
/// </summary>
public sealed partial class KubernetesForkRequester : IForkRequester
{
    private readonly SignalLeaseWriter _writer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (int Wanted, long At)> _overflow = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = NewSignal();
    private long _startTimeoutTicks;
    private ForkLimits _limits;

    public KubernetesForkRequester(SignalLeaseWriter writer, ForkLimits limits, TimeSpan startTimeout, TimeProvider? timeProvider = null, ILogger<KubernetesForkRequester>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(limits);
        _writer = writer;
        _limits = limits;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        StartTimeout = startTimeout;
    }

    /// <summary>How often an unchanged overflow request is written again, so the operator sees it is still fresh.</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    public ForkLimits Limits
    {
        get => Volatile.Read(ref _limits);
        set => Volatile.Write(ref _limits, value ?? throw new ArgumentNullException(nameof(value)));
    }

    public TimeSpan StartTimeout
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _startTimeoutTicks));
        set => Interlocked.Exchange(ref _startTimeoutTicks, Math.Max(0, value.Ticks));
    }

    public void Wake() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    public void RequestOverflow(string baseId, int wanted)
    {
        ArgumentException.ThrowIfNullOrEmpty(baseId);
        var now = _time.GetTimestamp();
        while (true)
        {
            var known = _overflow.TryGetValue(baseId, out var last);
            if (known && wanted <= last.Wanted && _time.GetElapsedTime(last.At, now) < RefreshInterval)
            {
                return;
            }

            var next = (Math.Max(wanted, known && _time.GetElapsedTime(last.At, now) < RefreshInterval ? last.Wanted : 0), now);
            if (known ? _overflow.TryUpdate(baseId, next, last) : _overflow.TryAdd(baseId, next))
            {
                Log.Asked(_logger, "Overflow", baseId, next.Item1.ToString(CultureInfo.InvariantCulture));
                _writer.Set(GatewaySignals.Forks(baseId, next.Item1, _time.GetUtcNow()));
                return;
            }
        }
    }

    public void RequestIsolated(string baseId, string buildId)
    {
        Log.Asked(_logger, "Isolate", baseId, buildId);
        _writer.Set(GatewaySignals.Isolate(baseId, buildId, _time.GetUtcNow()));
    }

    public void ReleaseIsolated(string baseId, string buildId)
    {
        Log.Asked(_logger, "Release", baseId, buildId);
        _writer.Remove(GatewaySignals.IsolateName(baseId, buildId));
    }

    public async Task<bool> WaitAsync(Func<bool> done, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(done);
        var started = _time.GetTimestamp();
        while (true)
        {
            // Take the signal before looking, so a change in between wakes us rather than being missed.
            var changed = Volatile.Read(ref _changed).Task;
            if (done())
            {
                return true;
            }

            var remaining = timeout - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            try
            {
                await changed.WaitAsync(remaining, _time, _writer.Stopping).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return done();
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Fork request {Kind} for CacheVolume {Base}: {Value}")]
        public static partial void Asked(ILogger logger, string kind, string @base, string value);
    }
}
