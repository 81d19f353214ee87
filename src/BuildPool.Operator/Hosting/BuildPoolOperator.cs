using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Pools;
using BuildPool.Operator.Registry;
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
        IBuilderConnector? connector = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var caches = new OperatorCaches(kubernetes, options, time, loggerFactory);

        var pools = new Controller<BuilderPool>(
                new ControllerOptions { Name = "builderpool", Workers = options.Workers, ResyncPeriod = options.ResyncPeriod },
                caches.Pools,
                new BuilderPoolReconciler(caches, options, time, loggerFactory.CreateLogger<BuilderPoolReconciler>()),
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
            // Volumes a person created for the pool count in its status as much as its own.
            .Watches(caches.Volumes, v => [new ReconcileRequest(v.Metadata.NamespaceProperty, v.Spec.Pool)])
            // A cache target's flags feed the gateway of every pool that injects it.
            .Watches(caches.CacheTargets, t => caches.Pools.Cache.ListInNamespace(t.Metadata.NamespaceProperty ?? string.Empty)
                .Where(p => p.Spec.CacheTargets?.Any(c => c.Name == t.Metadata.Name) == true)
                .Select(ReconcileRequest.For));

        var volumes = new Controller<CacheVolume>(
                new ControllerOptions { Name = "cachevolume", Workers = options.Workers, ResyncPeriod = options.ResyncPeriod },
                caches.Volumes,
                new CacheVolumeReconciler(caches, options, connector ?? new ServiceBuilderConnector(), new RolloutGate(),
                    new EventRecorder(caches.Events, time, loggerFactory.CreateLogger<EventRecorder>()), caches.Metrics, time, loggerFactory.CreateLogger<CacheVolumeReconciler>()),
                time,
                loggerFactory,
                metrics)
            .Owns(caches.Deployments)
            .Owns(caches.Services)
            .Owns(caches.ConfigMaps)
            .Watches(caches.Claims, VolumeOf)
            .Watches(caches.Pools, p => caches.VolumesOf(p.Metadata.NamespaceProperty, p.Metadata.Name).Select(ReconcileRequest.For));

        var cacheTargets = new Controller<RegistryCacheTarget>(
            new ControllerOptions { Name = "registrycachetarget", Workers = options.Workers, ResyncPeriod = options.ResyncPeriod },
            caches.CacheTargets,
            new RegistryCacheTargetReconciler(caches, options, time, loggerFactory.CreateLogger<RegistryCacheTargetReconciler>()),
            time,
            loggerFactory,
            metrics)
            // A managed target's in-cluster registry: Deployment and Service by owner, the claim by its target label.
            .Owns(caches.Deployments)
            .Owns(caches.Services)
            .Watches(caches.Claims, c => ManagedRegistry.TargetOf(c.Metadata) is { } target ? [new ReconcileRequest(c.Metadata.NamespaceProperty, target)] : []);

        var manager = new ControllerManager(leaderElection, lifetime, loggerFactory);
        foreach (var informer in caches.All)
        {
            manager.AddInformer(informer);
        }

        manager.AddController(pools).AddController(volumes).AddController(cacheTargets);
        return (manager, caches);
    }

    private static IEnumerable<ReconcileRequest> VolumeOf(V1PersistentVolumeClaim claim) =>
        claim.Metadata.Labels?.TryGetValue(WellKnown.VolumeLabel, out var volume) == true
            ? [new ReconcileRequest(claim.Metadata.NamespaceProperty, volume)]
            : [];
}
