using System.Runtime.ExceptionServices;
using BuildPool.Runtime.Informers;
using BuildPool.Runtime.Leadership;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Runtime.Hosting;

/// <summary>
/// Runs the informers (always, so a standby replica has warm caches) and the controllers (only
/// while leading, when leader election is configured). Every loop is meant to run until the host
/// stops; if one returns or throws earlier, or leadership is lost, the manager stops the rest and
/// the host, so the process restarts clean instead of running half a control plane.
/// </summary>
public sealed partial class ControllerManager : BackgroundService
{
    private readonly List<IInformer> _informers = [];
    private readonly List<IRunnable> _controllers = [];
    private readonly LeaderElectionRunner? _leaderElection;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly ILogger _logger;
    private int _started;

    /// <param name="leaderElection">Null runs the controllers without a lease (a single replica, or tests).</param>
    /// <param name="lifetime">Stopped when a loop dies; without it the exception from <see cref="RunAsync"/> is the only signal.</param>
    public ControllerManager(LeaderElectionRunner? leaderElection = null, IHostApplicationLifetime? lifetime = null, ILoggerFactory? loggerFactory = null)
    {
        _leaderElection = leaderElection;
        _lifetime = lifetime;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ControllerManager>();
    }

    /// <summary>Adds an informer; one informer may feed several controllers. Call before the host starts.</summary>
    public ControllerManager AddInformer(IInformer informer)
    {
        ArgumentNullException.ThrowIfNull(informer);
        EnsureNotStarted();
        _informers.Add(informer);
        return this;
    }

    /// <summary>Adds a controller (or any loop that must run only while leading). Call before the host starts.</summary>
    public ControllerManager AddController(IRunnable controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        EnsureNotStarted();
        _controllers.Add(controller);
        return this;
    }

    /// <summary>
    /// Runs everything until <paramref name="cancellationToken"/> is cancelled, then returns after all
    /// loops have stopped. Throws <see cref="LoopExitedException"/> if a loop ended on its own.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The controller manager runs only once.");
        }

        var loops = new List<(string Name, Func<CancellationToken, Task> Run)>();
        foreach (var informer in _informers)
        {
            loops.Add(($"informer {informer.Name}", informer.RunAsync));
        }

        if (_leaderElection is null)
        {
            loops.Add(("controllers", RunControllersAsync));
        }
        else
        {
            var election = _leaderElection;
            loops.Add(($"leader election as {election.Identity}", token => election.RunAsync(RunControllersAsync, token)));
        }

        await RunAllAsync(loops, cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            Log.Failed(_logger, e);

            // BackgroundService's default already stops the host on an exception; asking the
            // lifetime too makes that hold under BackgroundServiceExceptionBehavior.Ignore.
            _lifetime?.StopApplication();
            throw;
        }
    }

    private Task RunControllersAsync(CancellationToken cancellationToken) =>
        RunAllAsync([.. _controllers.Select(c => ($"controller {c.Name}", (Func<CancellationToken, Task>)c.RunAsync))], cancellationToken);

    private async Task RunAllAsync(IReadOnlyList<(string Name, Func<CancellationToken, Task> Run)> loops, CancellationToken cancellationToken)
    {
        if (loops.Count == 0)
        {
            // Nothing to run, but the loop must still last until the host stops.
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            return;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = loops.Select(loop => Task.Run(() => loop.Run(stop.Token), CancellationToken.None)).ToArray();

        var first = await Task.WhenAny(tasks).ConfigureAwait(false);
        var failedName = cancellationToken.IsCancellationRequested ? null : loops[Array.IndexOf(tasks, first)].Name;
        if (failedName is not null)
        {
            Log.LoopExited(_logger, failedName);
        }

        // Whether stopping or failing, every loop is stopped and awaited: none outlives the manager.
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception) when (failedName is not null)
        {
            // Reported below with the loop that failed first.
        }

        if (failedName is not null)
        {
            var cause = first.Exception?.GetBaseException();
            if (cause is LoopExitedException inner)
            {
                // A nested group (the controllers under leader election) already named the loop.
                ExceptionDispatchInfo.Throw(inner);
            }

            throw new LoopExitedException(LoopExitedException.Describe(failedName, cause), cause);
        }
    }

    private void EnsureNotStarted()
    {
        if (Volatile.Read(ref _started) != 0)
        {
            throw new InvalidOperationException("The controller manager has started already.");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Critical, "The {Loop} loop exited while the host was running; stopping")]
        public static partial void LoopExited(ILogger logger, string loop);

        [LoggerMessage(2, LogLevel.Critical, "The controller manager failed; stopping the host")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
