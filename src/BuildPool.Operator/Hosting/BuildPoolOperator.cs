using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Bindings;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Registry;
using BuildPool.Operator.Security;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Status;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Controllers;
using BuildPool.Runtime.Hosting;
using BuildPool.Runtime.Leadership;
using BuildPool.Runtime.Metrics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Hosting;

/// <summary>Wires the operator's informers and controllers into one controller manager.</summary>
public static class BuildPoolOperator
{
    public static (ControllerManager Manager, OperatorCaches Caches) Create(
        IKubernetes kubernetes,
        OperatorOptions options,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        RuntimeMetrics? metrics = null,
        LeaderElectionRunner? leaderElection = null,
        IHostApplicationLifetime? lifetime = null,
        IBuilderConnector? connector = null,
        Func<System.Net.DnsEndPoint, System.Net.EndPoint?>? resolveService = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var caches = new OperatorCaches(kubernetes, options, time, loggerFactory);
        if (leaderElection is not null)
        {
            caches.Metrics.Exporting = () => leaderElection.IsLeader;
        }

        var events = new EventRecorder(caches.Events, time, loggerFactory.CreateLogger<EventRecorder>());

        var pools = new Controller<BuilderPool>(
                new ControllerOptions { Name = "builderpool", Workers = options.Workers, ResyncPeriod = options.ResyncPeriod },
                caches.Pools,
                new BuilderPoolReconciler(caches, options, time, events, loggerFactory.CreateLogger<BuilderPoolReconciler>()),
                time,
                loggerFactory,
                metrics)
            .Owns(caches.Deployments)
            .Owns(caches.Services)
            .Owns(caches.ServiceAccounts)
            .Owns(caches.Roles)
            .Owns(caches.RoleBindings)
            .Owns(caches.DisruptionBudgets)
            .Owns(caches.NetworkPolicies)
            // Its signal Lease: the gateway's Dedicated demands.
            .Owns(caches.SignalLeases)
            // The pool CA and certificates it owns, and the Secrets FromSecret or an EndpointTLS binding name.
            .Owns(caches.Secrets)
            .Watches(caches.SecretInformers, s => PoolsUsing(caches, s))
            // ClientAccess too: an untrusted one on a pool that admits anonymous clients stalls it.
            .Watches(caches.Bindings, b => b.Spec.Kind is SecretBindingKind.EndpointTls or SecretBindingKind.ClientAccess ? [new ReconcileRequest(b.Metadata.NamespaceProperty, b.Spec.Pool)] : [])
            // Volumes a person created for the pool count in its status as much as its own.
            .Watches(caches.Volumes, v => [new ReconcileRequest(v.Metadata.NamespaceProperty, v.Spec.Pool)])
            // A cache target's flags feed the gateway of every pool that injects it.
            .Watches(caches.CacheTargets, t => PoolsListing(caches, t.Metadata.NamespaceProperty, t.Metadata.Name)
                .Select(p => new ReconcileRequest(t.Metadata.NamespaceProperty, p)));

        var volumes = new Controller<CacheVolume>(
                new ControllerOptions { Name = "cachevolume", Workers = options.Workers, ResyncPeriod = options.ResyncPeriod },
                caches.Volumes,
                new CacheVolumeReconciler(caches, options, connector ?? new ServiceBuilderConnector(new BuilderClientCredentials(caches).For, resolveService),
                    events, caches.Metrics, time, loggerFactory.CreateLogger<CacheVolumeReconciler>()),
                time,
                loggerFactory,
                metrics)
            .Owns(caches.Deployments)
            .Owns(caches.Services)
            .Owns(caches.ConfigMaps)
            .Watches(caches.Claims, VolumeOf)
            // The gateway's signals: only the volumes a change of the Lease is about.
            .WatchesChanges(caches.SignalLeases, SignalChanges.Volumes)
            .Watches(caches.Pools, p => caches.VolumesOf(p.Metadata.NamespaceProperty, p.Metadata.Name).Select(ReconcileRequest.For))
            // Builder certificates and bound credentials: a rotated Secret rolls the builders through drain.
            .Watches(caches.Bindings, b => caches.VolumesOf(b.Metadata.NamespaceProperty, b.Spec.Pool).Select(ReconcileRequest.For))
            .Watches(caches.SecretInformers, s => BuilderPoolsUsing(caches, s)
                .SelectMany(pool => caches.VolumesOf(s.Metadata.NamespaceProperty, pool))
                .Select(ReconcileRequest.For))
            // A target that becomes (or stops being) managed adds (or drops) its registry's client certificate.
            .Watches(caches.CacheTargets, t => PoolsListing(caches, t.Metadata.NamespaceProperty, t.Metadata.Name)
                .SelectMany(pool => caches.VolumesOf(t.Metadata.NamespaceProperty, pool))
                .Select(ReconcileRequest.For));

        var bindings = new Controller<SecretBinding>(
            new ControllerOptions { Name = "secretbinding", Workers = options.Workers, ResyncPeriod = options.ResyncPeriod },
            caches.Bindings,
            new SecretBindingReconciler(caches, options, time, events, loggerFactory.CreateLogger<SecretBindingReconciler>()),
            time,
            loggerFactory,
            metrics)
            .Watches(caches.Pools, p => caches.BindingsOf(p.Metadata.NamespaceProperty, p.Metadata.Name).Select(ReconcileRequest.For))
            .Watches(caches.SecretInformers, s => BindingsUsing(caches, s));

        var cacheTargets = new Controller<RegistryCacheTarget>(
            new ControllerOptions { Name = "registrycachetarget", Workers = options.Workers, ResyncPeriod = options.ResyncPeriod },
            caches.CacheTargets,
            new RegistryCacheTargetReconciler(caches, options, time, events, loggerFactory.CreateLogger<RegistryCacheTargetReconciler>(), resolveService),
            time,
            loggerFactory,
            metrics)
            // A managed target's in-cluster registry: its certificates, ConfigMap, Deployment, Service and NetworkPolicy by owner, the claim by its target label.
            .Owns(caches.Secrets)
            .Owns(caches.ConfigMaps)
            .Owns(caches.Deployments)
            .Owns(caches.Services)
            .Owns(caches.NetworkPolicies)
            // The NetworkPolicy admits the builders of the pools that list the target (a pool that drops it is caught by resync).
            .Watches(caches.Pools, p => p.Spec.CacheTargets?.Select(t => new ReconcileRequest(p.Metadata.NamespaceProperty, t.Name)) ?? [])
            .Watches(caches.Claims, c => ManagedRegistry.TargetOf(c.Metadata) is { } target ? [new ReconcileRequest(c.Metadata.NamespaceProperty, target)] : []);

        var manager = new ControllerManager(leaderElection, lifetime, loggerFactory);
        foreach (var informer in caches.All)
        {
            manager.AddInformer(informer);
        }

        manager.AddController(pools).AddController(volumes).AddController(cacheTargets).AddController(bindings);
        return (manager, caches);
    }

    /// <summary>
    /// Pools whose gateway mounts <paramref name="secret"/> (FromSecret, EndpointTLS) or whose
    /// builder settings name it; their own PKI Secrets come by owner.
    /// </summary>
    private static IEnumerable<ReconcileRequest> PoolsUsing(OperatorCaches caches, V1Secret secret)
    {
        var ns = secret.Metadata.NamespaceProperty ?? string.Empty;
        var bound = caches.Bindings.Cache.ListInNamespace(ns)
            .Where(b => b.Spec.Kind == SecretBindingKind.EndpointTls && BuilderCredentialsPlanner.ReferencedSecrets(b.Spec).Any(r => r.Secret == secret.Metadata.Name))
            .Select(b => b.Spec.Pool);
        return PoolsNaming(caches, secret).Concat(bound).Distinct(StringComparer.Ordinal).Select(p => new ReconcileRequest(ns, p));
    }

    /// <summary>Pools whose spec names <paramref name="secret"/> (registry files, FromSecret): it must exist before a builder starts.</summary>
    private static IEnumerable<string> PoolsNaming(OperatorCaches caches, V1Secret secret) =>
        caches.Pools.Cache.ListInNamespace(secret.Metadata.NamespaceProperty ?? string.Empty)
            .Where(p => SecretChecks.Referenced(p).Any(r => r.Secret == secret.Metadata.Name))
            .Select(p => p.Metadata.Name);

    /// <summary>Pools whose builders mount or wait for <paramref name="secret"/>: their builder certificate, a binding's Secret, or one their spec names.</summary>
    private static IEnumerable<string> BuilderPoolsUsing(OperatorCaches caches, V1Secret secret)
    {
        var ns = secret.Metadata.NamespaceProperty ?? string.Empty;
        var pools = caches.Bindings.Cache.ListInNamespace(ns)
            .Where(b => b.Spec.Kind is SecretBindingKind.CacheBackendCredentials or SecretBindingKind.RegistryTls
                && BuilderCredentialsPlanner.ReferencedSecrets(b.Spec).Any(r => r.Secret == secret.Metadata.Name))
            .Select(b => b.Spec.Pool)
            .Concat(PoolsNaming(caches, secret))
            .ToList();
        if (secret.Metadata.Labels?.TryGetValue(WellKnown.PoolLabel, out var pool) == true && secret.Metadata.Name == ResourceNames.BuilderTlsSecret(pool))
        {
            pools.Add(pool);
        }

        // A managed registry's client certificate: the builders of every pool that uses the registry present it.
        if (ManagedRegistry.TargetOf(secret.Metadata) is { } target && secret.Metadata.Name == ManagedRegistry.ClientSecret(target))
        {
            pools.AddRange(PoolsListing(caches, ns, target));
        }

        return pools.Distinct(StringComparer.Ordinal);
    }

    /// <summary>Pools in <paramref name="namespace"/> that list the RegistryCacheTarget <paramref name="target"/>.</summary>
    private static IEnumerable<string> PoolsListing(OperatorCaches caches, string? @namespace, string target) =>
        caches.Pools.Cache.ListInNamespace(@namespace ?? string.Empty)
            .Where(p => p.Spec.CacheTargets?.Any(c => c.Name == target) == true)
            .Select(p => p.Metadata.Name);

    /// <summary>Bindings that name <paramref name="secret"/>, that issued it, or whose pool CA it is.</summary>
    private static IEnumerable<ReconcileRequest> BindingsUsing(OperatorCaches caches, V1Secret secret)
    {
        var ns = secret.Metadata.NamespaceProperty ?? string.Empty;
        var labels = secret.Metadata.Labels;
        var requests = caches.Bindings.Cache.ListInNamespace(ns)
            .Where(b => BuilderCredentialsPlanner.ReferencedSecrets(b.Spec).Any(r => r.Secret == secret.Metadata.Name))
            .Select(ReconcileRequest.For)
            .ToList();
        if (labels?.TryGetValue(BindingLabels.Binding, out var binding) == true && labels.TryGetValue(BindingLabels.BindingNamespace, out var bindingNs))
        {
            requests.Add(new ReconcileRequest(bindingNs, binding));
        }

        if (labels?.TryGetValue(WellKnown.PoolLabel, out var pool) == true && secret.Metadata.Name == ResourceNames.CaSecret(pool))
        {
            requests.AddRange(caches.BindingsOf(ns, pool).Select(ReconcileRequest.For));
        }

        return requests.Distinct();
    }

    private static IEnumerable<ReconcileRequest> VolumeOf(V1PersistentVolumeClaim claim) =>
        claim.Metadata.Labels?.TryGetValue(WellKnown.VolumeLabel, out var volume) == true
            ? [new ReconcileRequest(claim.Metadata.NamespaceProperty, volume)]
            : [];
}
