using System.Collections.Concurrent;
using System.Globalization;
using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Tests.Discovery;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Gateway.Tests.Isolation;

/// <summary>
/// Plays the operator's fork side of docs/lifecycle.md against the local API (the operator's own
/// behaviour, limits included, is tested in BuildPool.Operator.Tests ForkTests): reads the
/// gateway's fork annotations, creates fork CacheVolumes with the operator's labels, and marks
/// them Ready at a fake builder. Overflow fork i of a volume is the fake builder
/// "&lt;volume&gt;-f&lt;i&gt;"; isolated forks borrow a free builder from <c>isolatedBuilders</c>
/// and give it back when the gateway releases the build.
/// </summary>
internal sealed class ForkOperatorDouble : IAsyncDisposable
{
    private readonly PoolGatewayHarness _h;
    private readonly int _maxPerVolume;
    private readonly int _maxPerPool;
    private readonly ConcurrentQueue<string> _freeBuilders;
    private readonly ConcurrentDictionary<string, string> _builderOf = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private DateTimeOffset _staleBefore = DateTimeOffset.MinValue;

    public ForkOperatorDouble(PoolGatewayHarness harness, int maxPerVolume, int maxPerPool, IEnumerable<string>? isolatedBuilders = null)
    {
        _h = harness;
        _maxPerVolume = maxPerVolume;
        _maxPerPool = maxPerPool;
        _freeBuilders = new ConcurrentQueue<string>(isolatedBuilders ?? []);
        _loop = RunAsync(_stop.Token);
    }

    /// <summary>Every fork created, in order.</summary>
    public ConcurrentQueue<string> Created { get; } = new();

    /// <summary>Every isolated fork deleted after its build was released.</summary>
    public ConcurrentQueue<string> Released { get; } = new();

    /// <summary>Most forks that existed at once.</summary>
    public int MaxForks { get; private set; }

    /// <summary>The fake builder that served an isolated fork (by fork name).</summary>
    public IReadOnlyDictionary<string, string> BuilderOf => _builderOf;

    /// <summary>Deletes every overflow fork, as the operator does once they are idle past the fork idle timeout.</summary>
    public async Task RetireOverflowForksAsync()
    {
        // Past the idle timeout the gateway's request is stale too: only a newer one forks again.
        _staleBefore = DateTimeOffset.UtcNow.AddSeconds(1);
        foreach (var fork in (await _h.Volumes.ListAsync(PoolGatewayHarness.Ns)).Where(v => Label(v, LifecycleAnnotations.ForkOfLabel) is not null && Label(v, LifecycleAnnotations.IsolatedForLabel) is null))
        {
            await _h.Volumes.DeleteAsync(PoolGatewayHarness.Ns, fork.Metadata.Name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private static string? Label(CacheVolume volume, string label) =>
        volume.Metadata.Labels?.TryGetValue(label, out var value) == true ? value : null;

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await ReconcileAsync(cancellationToken);
        }
    }

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var volumes = await _h.Volumes.ListAsync(PoolGatewayHarness.Ns, cancellationToken: cancellationToken);
        var lease = await _h.Leases.GetAsync(PoolGatewayHarness.Ns, GatewaySignals.LeaseName(PoolGatewayHarness.PoolName), cancellationToken);
        var signals = GatewaySignals.ParseAll(lease?.Metadata.Annotations).Where(s => s.Invalid is null).ToList();
        var forks = volumes.Where(v => Label(v, LifecycleAnnotations.ForkOfLabel) is not null).ToList();
        var names = forks.Select(f => f.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var bases = volumes.Where(v => Label(v, LifecycleAnnotations.ForkOfLabel) is null).ToDictionary(v => v.Metadata.Name, StringComparer.Ordinal);
        MaxForks = Math.Max(MaxForks, forks.Count);

        foreach (var fork in forks)
        {
            if (Label(fork, LifecycleAnnotations.IsolatedForLabel) is { } id
                && bases.TryGetValue(Label(fork, LifecycleAnnotations.ForkOfLabel)!, out var owner)
                && !signals.Any(s => s.Kind == GatewaySignalKind.Isolate && s.Subject == owner.Metadata.Name && s.Detail == id))
            {
                await _h.Volumes.DeleteAsync(PoolGatewayHarness.Ns, fork.Metadata.Name, cancellationToken);
                names.Remove(fork.Metadata.Name);
                Released.Enqueue(fork.Metadata.Name);
                if (_builderOf.TryGetValue(fork.Metadata.Name, out var builder))
                {
                    _freeBuilders.Enqueue(builder);
                }
            }
        }

        foreach (var (name, volume) in bases)
        {
            foreach (var isolate in signals.Where(s => s.Kind == GatewaySignalKind.Isolate && s.Subject == name).OrderBy(s => s.At))
            {
                var id = isolate.Detail!;
                var forkName = $"{name}-i{id}";
                if (names.Contains(forkName) || !Room(names, name) || !_freeBuilders.TryDequeue(out var builder))
                {
                    continue;
                }

                _builderOf[forkName] = builder;
                await CreateForkAsync(forkName, name, id, builder, cancellationToken);
                names.Add(forkName);
            }

            if (signals.FirstOrDefault(s => s.Kind == GatewaySignalKind.Forks && s.Subject == name) is { } asked
                && int.TryParse(asked.Detail, CultureInfo.InvariantCulture, out var wanted) && asked.At >= _staleBefore)
            {
                var overflow = names.Count(n => n.StartsWith(name + "-f", StringComparison.Ordinal));
                for (var i = 0; overflow < wanted && i < _maxPerVolume && Room(names, name); i++)
                {
                    var forkName = $"{name}-f{i}";
                    if (!names.Contains(forkName))
                    {
                        await CreateForkAsync(forkName, name, null, forkName, cancellationToken);
                        names.Add(forkName);
                        overflow++;
                    }
                }
            }
        }
    }

    private bool Room(HashSet<string> forks, string baseName) =>
        forks.Count < _maxPerPool && forks.Count(f => f.StartsWith(baseName + "-", StringComparison.Ordinal)) < _maxPerVolume;

    private async Task CreateForkAsync(string name, string baseName, string? isolatedFor, string builder, CancellationToken cancellationToken)
    {
        var labels = new Dictionary<string, string> { [LifecycleAnnotations.ForkOfLabel] = baseName };
        if (isolatedFor is not null)
        {
            labels[LifecycleAnnotations.IsolatedForLabel] = isolatedFor;
        }

        // Like the operator: the base is the fork's controller, which is what makes it a fork.
        var owner = await _h.Volumes.GetAsync(PoolGatewayHarness.Ns, baseName, cancellationToken);
        var fork = await _h.Volumes.CreateAsync(new CacheVolume
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = PoolGatewayHarness.Ns,
                Labels = labels,
                OwnerReferences = [new V1OwnerReference { ApiVersion = owner!.ApiVersion, Kind = CacheVolume.KubeKind, Name = baseName, Uid = owner.Metadata.Uid, Controller = true }],
            },
            Spec = new CacheVolumeSpec { Pool = PoolGatewayHarness.PoolName, CloneFrom = baseName },
        }, cancellationToken);
        Created.Enqueue(name);
        fork.Status = new CacheVolumeStatus { Phase = CacheVolumePhase.Ready, Endpoint = _h.Fleet[builder].Address };
        await _h.Volumes.ReplaceStatusAsync(fork, cancellationToken);
    }
}
