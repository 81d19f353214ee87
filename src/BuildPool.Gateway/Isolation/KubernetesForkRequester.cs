using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Isolation;

/// <summary>
/// Pool mode's <see cref="IForkRequester"/>: writes the fork signals of docs/lifecycle.md on the
/// pool's signal Lease (forks wanted per base volume, and one isolate signal per untrusted build,
/// removed when it ends) from one loop, so routing never waits on the API and a burst costs one
/// write per change.
/// </summary>
public sealed partial class KubernetesForkRequester : IForkRequester
{
    private readonly ResourceClient<V1Lease> _signals;
    private readonly string _namespace;
    private readonly string _lease;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Write> _writes = Channel.CreateUnbounded<Write>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, (int Wanted, long At)> _overflow = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = NewSignal();
    private long _startTimeoutTicks;
    private ForkLimits _limits;

    public KubernetesForkRequester(ResourceClient<V1Lease> signals, string @namespace, string pool, ForkLimits limits, TimeSpan startTimeout, TimeProvider? timeProvider = null, ILogger<KubernetesForkRequester>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(pool);
        ArgumentNullException.ThrowIfNull(limits);
        _signals = signals;
        _namespace = @namespace;
        _lease = GatewaySignals.LeaseName(pool);
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
                _writes.Writer.TryWrite(new Write(WriteKind.Overflow, baseId, next.Item1.ToString(CultureInfo.InvariantCulture)));
                return;
            }
        }
    }

    public void RequestIsolated(string baseId, string buildId) =>
        _writes.Writer.TryWrite(new Write(WriteKind.Isolate, baseId, buildId));

    public void ReleaseIsolated(string baseId, string buildId) =>
        _writes.Writer.TryWrite(new Write(WriteKind.Release, baseId, buildId));

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
                await changed.WaitAsync(remaining, _time, _stopping.Token).ConfigureAwait(false);
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

    /// <summary>Writes the requested signals until cancelled; a failed write is logged, and the next build asks again.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _stopping);
        try
        {
            await foreach (var write in _writes.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = _time.GetUtcNow();
                var signal = write.Kind switch
                {
                    WriteKind.Overflow => GatewaySignals.Forks(write.Base, int.Parse(write.Value, CultureInfo.InvariantCulture), now),
                    WriteKind.Isolate => GatewaySignals.Isolate(write.Base, write.Value, now),
                    _ => new KeyValuePair<string, string>(GatewaySignals.IsolateName(write.Base, write.Value), string.Empty),
                };
                var annotations = new Dictionary<string, string?>(StringComparer.Ordinal) { [signal.Key] = write.Kind == WriteKind.Release ? null : signal.Value };
                try
                {
                    await _signals.PatchAsync(_namespace, _lease, new { metadata = new { annotations } }, cancellationToken).ConfigureAwait(false);
                    Log.Wrote(_logger, write.Kind.ToString(), write.Base, write.Value);
                }
#pragma warning disable CA1031 // Any failure (API error, network, client timeout) is one lost write, never the end of the loop.
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    if (write.Kind == WriteKind.Overflow)
                    {
                        _overflow.TryRemove(write.Base, out _);
                    }

                    Log.WriteFailed(_logger, ex, write.Kind.ToString(), write.Base, write.Value);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private enum WriteKind
    {
        Overflow,
        Isolate,
        Release,
    }

    private readonly record struct Write(WriteKind Kind, string Base, string Value);

    private static partial class Log
    {
        [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Fork request {Kind} for CacheVolume {Base}: {Value}")]
        public static partial void Wrote(ILogger logger, string kind, string @base, string value);

        [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Could not write fork request {Kind} for CacheVolume {Base} ({Value})")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string kind, string @base, string value);
    }
}
