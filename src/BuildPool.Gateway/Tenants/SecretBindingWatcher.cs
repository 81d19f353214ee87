using System.Threading.Channels;
using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Informers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Gateway.Tenants;

/// <summary>
/// Pool mode: follows the SecretBindings of the pool's namespace with an informer and keeps
/// <see cref="Directory"/> equal to the live ClientAccess bindings of the pool. A deleted binding
/// leaves the directory as soon as its watch event arrives (well within the 10 s the docs promise),
/// and the gateway checks the directory on every call.
/// </summary>
public sealed class SecretBindingWatcher
{
    private readonly KubernetesTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<bool> _dirty = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public SecretBindingWatcher(KubernetesTransport transport, string @namespace, string pool, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        ArgumentException.ThrowIfNullOrEmpty(pool);
        _transport = transport;
        _time = timeProvider ?? TimeProvider.System;
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<SecretBindingWatcher>();
        Namespace = @namespace;
        Pool = pool;
        Directory = new TenantDirectory($"BuilderPool {@namespace}/{pool}", _time);
    }

    public string Namespace { get; }

    public string Pool { get; }

    /// <summary>The pool's live tenants; not synced until the first list arrived.</summary>
    public TenantDirectory Directory { get; }

    /// <summary>Completes once <see cref="Directory"/> holds the bindings listed at start.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _synced.Task.WaitAsync(cancellationToken);

    /// <summary>Follows the bindings until cancelled; returns only then (or throws when the informer fails).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var bindings = new Informer<SecretBinding>(
            new KubernetesListWatcher<SecretBinding>(_transport, Namespace),
            _time,
            _loggers,
            new InformerOptions { Name = $"SecretBindings in {Namespace}" });
        bindings.AddEventHandler(new ResourceEventHandler<SecretBinding>
        {
            Added = Changed,
            Updated = (old, now) =>
            {
                Changed(old);
                Changed(now);
            },
            Deleted = Changed,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task[] loops = [bindings.RunAsync(stop.Token), ApplyAsync(bindings, stop.Token)];
        await Task.WhenAny(loops).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private void Changed(SecretBinding binding)
    {
        if (binding.Spec?.Pool == Pool && binding.Spec.Kind == SecretBindingKind.ClientAccess)
        {
            _dirty.Writer.TryWrite(true);
        }
    }

    // One loop swaps the directory, so a burst of events becomes one swap and a slow reader of
    // the cache never writes an older snapshot over a newer one.
    private async Task ApplyAsync(Informer<SecretBinding> bindings, CancellationToken cancellationToken)
    {
        try
        {
            await bindings.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            _dirty.Writer.TryWrite(true);
            var shown = (string?)null;
            await foreach (var _ in _dirty.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var tenants = TenantBindings.From(bindings.Cache.List(), Pool);
                Directory.Replace(tenants);
                _synced.TrySetResult();
                // Identities and limits only: a serial is not a secret, but it is noise in a log line.
                // One line per binding: a renewed binding's previous certificate is not another tenant.
                var current = tenants.Where(t => t.AcceptedUntil is null).ToList();
                var summary = string.Join(", ", current.Select(t => t.MaxConcurrentBuilds is { } limit ? $"{t.Identity} (max {limit})" : t.Identity));
                if (summary != shown)
                {
                    shown = summary;
                    TenantLog.TenantsChanged(_logger, Directory.Scope, current.Count, summary);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
