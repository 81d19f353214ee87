using BuildPool.Runtime.Metrics;
using k8s;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Runtime.Leadership;

/// <summary>
/// Runs work only while this replica holds the lease, using the client's <see cref="LeaderElector"/>.
/// The work's token is cancelled the moment leadership ends, from the elector's own
/// <c>OnStoppedLeading</c> callback, so no reconcile starts after the lease is lost.
/// </summary>
/// <remarks>
/// Leadership is held once: after losing it <see cref="RunAsync"/> returns and the caller (the
/// <see cref="Hosting.ControllerManager"/>) stops the process, like controller-runtime does. A
/// fresh process starts with empty queues and re-lists, which is simpler and safer than reusing
/// state from a term in which another replica may have acted.
/// </remarks>
public sealed partial class LeaderElectionRunner
{
    private readonly ILock _lock;
    private readonly LeaderElectionOptions _options;
    private readonly TimeProvider _time;
    private readonly RuntimeMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _nameTag;
    private volatile bool _isLeader;
    private volatile bool _hasLed;

    /// <param name="lock">The lease; tests pass an in-memory one, production <see cref="CreateLeaseLock"/>.</param>
    public LeaderElectionRunner(ILock @lock, LeaderElectionOptions options, TimeProvider? time = null, ILoggerFactory? loggerFactory = null, RuntimeMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(@lock);
        ArgumentNullException.ThrowIfNull(options);
        if (options.RenewDeadline >= options.LeaseDuration)
        {
            throw new ArgumentException("RenewDeadline must be shorter than LeaseDuration, or two leaders could overlap.", nameof(options));
        }

        _lock = @lock;
        _options = options;
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<LeaderElectionRunner>();
        _nameTag = new KeyValuePair<string, object?>("name", options.LeaseName);
    }

    public bool IsLeader => _isLeader;

    public string Identity => _options.Identity;

    /// <summary>A <c>coordination.k8s.io/v1</c> Lease lock, as client-go and controller-runtime use.</summary>
    public static ILock CreateLeaseLock(IKubernetes kubernetes, LeaderElectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new FieldManagedLeaseLock(kubernetes, options.LeaseNamespace, options.LeaseName, options.Identity, options.FieldManager);
    }

    /// <summary>
    /// Campaigns until this replica leads, runs <paramref name="whileLeading"/> with a token that is
    /// cancelled as soon as leadership is lost, and returns once it has been lost (or
    /// <paramref name="cancellationToken"/> is cancelled) and the work has stopped. If the work ends
    /// or fails while leading, campaigning stops too and its exception is rethrown.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(whileLeading);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RunTermAsync(whileLeading, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!_hasLed)
            {
                // The elector gives up when reading the lock fails during acquisition (e.g. the API
                // server is briefly unreachable); nothing was led yet, so just campaign again.
                Log.CampaignFailed(_logger, e, _options.LeaseName, _options.RetryPeriod);
            }

            try
            {
                await Task.Delay(_options.RetryPeriod, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task RunTermAsync(Func<CancellationToken, Task> whileLeading, CancellationToken cancellationToken)
    {
        var config = new LeaderElectionConfig(_lock)
        {
            LeaseDuration = _options.LeaseDuration,
            RenewDeadline = _options.RenewDeadline,
            RetryPeriod = _options.RetryPeriod,
        };
        using var elector = new LeaderElector(config);
        using var electorStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var leading = new CancellationTokenSource();
        Task? work = null;

        elector.OnStartedLeading += () =>
        {
            _isLeader = true;
            _hasLed = true;
            _metrics?.LeaderElectionStatus.Add(1, _nameTag);
            Log.StartedLeading(_logger, _options.Identity, _options.LeaseName);

            // Owned: awaited below before this method returns. Task.Run keeps the work's
            // synchronous start off the elector's renew loop.
            work = Task.Run(async () =>
            {
                try
                {
                    await whileLeading(leading.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (leading.IsCancellationRequested)
                {
                    // Cancelled because leadership ended: the expected way for the work to stop.
                }
                finally
                {
                    // Work that ends while leading must not leave us holding the lease for nothing.
                    if (!leading.IsCancellationRequested)
                    {
                        await electorStop.CancelAsync().ConfigureAwait(false);
                    }
                }
            }, CancellationToken.None);
        };
        elector.OnStoppedLeading += () =>
        {
            // Runs on the elector's loop the moment the renew deadline passes: cancel first, log after.
            leading.Cancel();
            if (_isLeader)
            {
                _isLeader = false;
                _metrics?.LeaderElectionStatus.Add(-1, _nameTag);
                Log.StoppedLeading(_logger, _options.Identity, _options.LeaseName);
            }
        };
        elector.OnNewLeader += leader => Log.NewLeader(_logger, _options.LeaseName, leader);
        elector.OnError += e => Log.ElectionError(_logger, e, _options.LeaseName);

        try
        {
            await elector.RunUntilLeadershipLostAsync(electorStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (electorStop.IsCancellationRequested && work is not null)
        {
            // Stopped because the work ended or the host is stopping; the work's outcome decides below.
        }
        finally
        {
            await leading.CancelAsync().ConfigureAwait(false);
            if (work is not null)
            {
                await work.ConfigureAwait(false);
            }
        }

        // Only after the work has stopped: releasing earlier would let a standby lead while a reconcile still runs here.
        if (work is not null && cancellationToken.IsCancellationRequested && _options.ReleaseOnCancel)
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Clears the holder, as client-go does on cancel: an empty holderIdentity with a one-second
    /// duration, which a standby's elector takes at once. Best effort and bounded: the process is
    /// stopping, and if this fails the Lease simply runs out.
    /// </summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(_options.RenewDeadline, _time);
        try
        {
            // Twice: a renewal still in flight when the host stopped can move the resourceVersion under the first attempt.
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var current = await _lock.GetAsync(timeout.Token).ConfigureAwait(false);
                if (current?.HolderIdentity != _options.Identity)
                {
                    return;
                }

                var now = _time.GetUtcNow().UtcDateTime;
                var release = new LeaderElectionRecord
                {
                    HolderIdentity = string.Empty,
                    LeaseDurationSeconds = 1,
                    AcquireTime = now,
                    RenewTime = now,
                    LeaderTransitions = current.LeaderTransitions,
                };
                if (await _lock.UpdateAsync(release, timeout.Token).ConfigureAwait(false))
                {
                    Log.Released(_logger, _options.Identity, _options.LeaseName);
                    return;
                }
            }

            Log.ReleaseFailed(_logger, null, _options.LeaseName);
        }
        catch (Exception e) when (e is k8s.Autorest.HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            Log.ReleaseFailed(_logger, e, _options.LeaseName);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "{Identity} started leading {Lease}")]
        public static partial void StartedLeading(ILogger logger, string identity, string lease);

        [LoggerMessage(2, LogLevel.Warning, "{Identity} stopped leading {Lease}")]
        public static partial void StoppedLeading(ILogger logger, string identity, string lease);

        [LoggerMessage(3, LogLevel.Information, "Lease {Lease} is held by {Leader}")]
        public static partial void NewLeader(ILogger logger, string lease, string leader);

        [LoggerMessage(4, LogLevel.Warning, "Leader election on {Lease} hit an error")]
        public static partial void ElectionError(ILogger logger, Exception exception, string lease);

        [LoggerMessage(5, LogLevel.Warning, "Campaign for {Lease} failed, retrying in {Delay}")]
        public static partial void CampaignFailed(ILogger logger, Exception exception, string lease, TimeSpan delay);

        [LoggerMessage(6, LogLevel.Information, "{Identity} released {Lease} on shutdown")]
        public static partial void Released(ILogger logger, string identity, string lease);

        [LoggerMessage(7, LogLevel.Warning, "Could not release {Lease} on shutdown; a standby takes over when it runs out")]
        public static partial void ReleaseFailed(ILogger logger, Exception? exception, string lease);
    }
}
