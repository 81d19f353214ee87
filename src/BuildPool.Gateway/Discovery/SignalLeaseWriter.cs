using System.Net;
using System.Threading.Channels;
using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// The one writer of a gateway's signals (<see cref="GatewaySignals"/>) on its pool's signal
/// Lease, for the builder starter and the fork requester alike. Requests are queued and written by
/// one loop, so routing never waits on the API: everything queued meanwhile goes in one merge
/// patch, and a write that fails stays queued (a newer value of the same annotation replaces it)
/// and is tried again after a jittered exponential backoff (<see cref="SignalRetry"/>). A 403 waits
/// far longer and is logged once, not per try: a gateway whose Role is missing must not hammer
/// the API server.
/// </summary>
public sealed partial class SignalLeaseWriter
{
    private readonly ResourceClient<V1Lease> _signals;
    private readonly string _namespace;
    private readonly TimeProvider _time;
    private readonly SignalRetryOptions _retry;
    private readonly ILogger _logger;
    private readonly Channel<Op> _ops = Channel.CreateUnbounded<Op>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();

    // The loop's own: what is still to be written, by annotation name, in the order first asked.
    private readonly Dictionary<string, Op> _pending = new(StringComparer.Ordinal);

    public SignalLeaseWriter(ResourceClient<V1Lease> signals, string @namespace, string pool, TimeProvider? timeProvider = null, SignalRetryOptions? retry = null, ILogger<SignalLeaseWriter>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(pool);
        _signals = signals;
        _namespace = @namespace;
        LeaseName = GatewaySignals.LeaseName(pool);
        _time = timeProvider ?? TimeProvider.System;
        _retry = retry ?? new SignalRetryOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The signal Lease's name.</summary>
    public string LeaseName { get; }

    /// <summary>Cancelled once <see cref="RunAsync"/> ends: waits that depend on signals give up then.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Sets <paramref name="signal"/> (replacing a queued value of the same annotation).</summary>
    public void Set(KeyValuePair<string, string> signal) => _ops.Writer.TryWrite(new Op(signal.Key, signal.Value, OpKind.Set));

    /// <summary>Removes the annotation <paramref name="name"/>, whoever wrote it.</summary>
    public void Remove(string name) => _ops.Writer.TryWrite(new Op(name, null, OpKind.Remove));

    /// <summary>
    /// Removes the annotation <paramref name="name"/> only while it still holds <paramref name="written"/>
    /// (the value this gateway wrote: a newer request of another replica stays), and not if
    /// <paramref name="wantedAgain"/> says, when its turn comes, that it is wanted again. A queued
    /// value of the annotation that was never written is dropped.
    /// </summary>
    public void Withdraw(string name, string written, Func<bool> wantedAgain) =>
        _ops.Writer.TryWrite(new Op(name, written, OpKind.Withdraw, wantedAgain));

    /// <summary>Writes what is queued until cancelled; failures are tried again with backoff, never the end of the loop.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        var forbiddenLogged = false;
        try
        {
            while (true)
            {
                if (_pending.Count == 0)
                {
                    Take(await _ops.Reader.ReadAsync(cancellationToken).ConfigureAwait(false));
                }

                while (_ops.Reader.TryRead(out var op))
                {
                    Take(op);
                }

                try
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (failures > 0)
                    {
                        Log.Recovered(_logger, LeaseName, failures);
                    }

                    failures = 0;
                    forbiddenLogged = false;
                }
#pragma warning disable CA1031 // Any failure (API error, network, client timeout) is tried again later, never the end of the loop.
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    failures++;
                    var forbidden = ex is KubernetesApiException { StatusCode: HttpStatusCode.Forbidden };
                    var delay = SignalRetry.Delay(failures, forbidden, _retry.Random.NextDouble(), _retry);
                    // The wait starts before the log line, so a reader of the log knows when it ends.
                    var wait = Task.Delay(delay, _time, cancellationToken);
                    if (forbidden && !forbiddenLogged)
                    {
                        forbiddenLogged = true;
                        Log.Forbidden(_logger, _namespace, LeaseName, ex.Message, _pending.Count, _retry.MaxForbiddenRetryDelay);
                    }
                    else if (failures == 1)
                    {
                        Log.Failed(_logger, ex, _namespace, LeaseName, _pending.Count, delay);
                    }
                    else
                    {
                        Log.FailedAgain(_logger, LeaseName, failures, ex.Message, delay);
                    }

                    await wait.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
    }

    // The latest request per annotation wins: a withdrawal drops a value queued and not yet
    // written, and a value asked after a withdrawal replaces it.
    private void Take(Op op) => _pending[op.Name] = op;

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        var merge = _pending.Values.Where(o => o.Kind != OpKind.Withdraw).ToList();
        if (merge.Count > 0)
        {
            var annotations = merge.ToDictionary(o => o.Name, o => o.Value, StringComparer.Ordinal);
            try
            {
                await _signals.PatchAsync(_namespace, LeaseName, new { metadata = new { annotations } }, cancellationToken).ConfigureAwait(false);
                foreach (var op in merge)
                {
                    Log.Wrote(_logger, op.Name, op.Value ?? "(removed)", LeaseName);
                }
            }
            catch (KubernetesApiException ex) when (ex.StatusCode == HttpStatusCode.UnprocessableEntity)
            {
                // The API will not take these annotations however often it is asked (too large, say): drop them.
                Log.Refused(_logger, merge.Count, LeaseName, ex.Message);
            }

            foreach (var op in merge)
            {
                _pending.Remove(op.Name);
            }
        }

        foreach (var op in _pending.Values.ToList())
        {
            if (op.WantedAgain?.Invoke() != true)
            {
                await WithdrawAsync(op, cancellationToken).ConfigureAwait(false);
            }

            _pending.Remove(op.Name);
        }
    }

    private async Task WithdrawAsync(Op op, CancellationToken cancellationToken)
    {
        // JSON Pointer: '/' in the annotation's name is ~1.
        var path = "/metadata/annotations/" + op.Name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
        try
        {
            await _signals.JsonPatchAsync(_namespace, LeaseName, [new { op = "test", path, value = op.Value }, new { op = "remove", path }], cancellationToken).ConfigureAwait(false);
            Log.Withdrawn(_logger, op.Name, LeaseName);
        }
        catch (KubernetesApiException ex) when (ex.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.NotFound)
        {
            // The annotation is gone (the operator acted on it) or holds a newer request: nothing of ours to withdraw.
        }
    }

    private enum OpKind
    {
        Set,
        Remove,
        Withdraw,
    }

    private sealed record Op(string Name, string? Value, OpKind Kind, Func<bool>? WantedAgain = null);

    private static partial class Log
    {
        [LoggerMessage(EventId = 720, Level = LogLevel.Debug, Message = "Wrote {Annotation}={Value} on Lease {Lease}")]
        public static partial void Wrote(ILogger logger, string annotation, string value, string lease);

        [LoggerMessage(EventId = 721, Level = LogLevel.Debug, Message = "Withdrew {Annotation} from Lease {Lease}")]
        public static partial void Withdrawn(ILogger logger, string annotation, string lease);

        [LoggerMessage(EventId = 722, Level = LogLevel.Warning, Message = "The gateway may not patch Lease {Namespace}/{Lease} ({Message}): its {Count} signal(s) wait, tried again with backoff up to {MaxDelay} (the operator creates the gateway's Role and RoleBinding with the pool; check them if this lasts)")]
        public static partial void Forbidden(ILogger logger, string @namespace, string lease, string message, int count, TimeSpan maxDelay);

        [LoggerMessage(EventId = 723, Level = LogLevel.Warning, Message = "Writing {Count} signal(s) on Lease {Namespace}/{Lease} failed; trying again in {Delay}")]
        public static partial void Failed(ILogger logger, Exception exception, string @namespace, string lease, int count, TimeSpan delay);

        [LoggerMessage(EventId = 724, Level = LogLevel.Debug, Message = "Writing signals on Lease {Lease} failed {Failures} times in a row ({Message}); trying again in {Delay}")]
        public static partial void FailedAgain(ILogger logger, string lease, int failures, string message, TimeSpan delay);

        [LoggerMessage(EventId = 725, Level = LogLevel.Information, Message = "Signals written on Lease {Lease} again after {Failures} failed tries")]
        public static partial void Recovered(ILogger logger, string lease, int failures);

        [LoggerMessage(EventId = 726, Level = LogLevel.Warning, Message = "The API refused {Count} signal(s) on Lease {Lease}; they are dropped: {Message}")]
        public static partial void Refused(ILogger logger, int count, string lease, string message);
    }
}
