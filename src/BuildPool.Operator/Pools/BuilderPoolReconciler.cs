using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Security;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Controllers;
using BuildPool.Runtime.Informers;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Pools;

/// <summary>
/// BuilderPool: validate, plan, apply the children (volumes, gateway, Service, RBAC, PDB,
/// NetworkPolicy), remove volumes the plan no longer has, then write status if it changed.
/// </summary>
public sealed partial class BuilderPoolReconciler(OperatorCaches caches, OperatorOptions options, TimeProvider time, EventRecorder events, ILogger<BuilderPoolReconciler> logger)
    : IReconciler<BuilderPool>
{
    private readonly PoolCertificates _certificates = new(caches, options, logger);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        var cached = caches.Pools.Cache.Get(request.Namespace, request.Name);
        if (cached is null || cached.Metadata.DeletionTimestamp is not null)
        {
            // Owner references take the children with the pool; volumes drain through their finalizer.
            return ReconcileResult.Done;
        }

        var pool = ObjectCopy.DeepCopy(cached);
        var now = StatusClock.Now(time);
        var errors = BuilderPoolValidator.Validate(pool);
        if (errors.Count > 0)
        {
            var message = string.Join("; ", errors);
            Log.Invalid(logger, message);
            await WriteStatusAsync(cached, pool, Outcome.Stalled("InvalidSpec", message), plan: null, now, cancellationToken);
            return ReconcileResult.Done;
        }

        var missing = SecretChecks.Missing(pool, name => caches.SecretReader.Cached(pool.Metadata.NamespaceProperty, name)).ToList();
        for (var i = 0; i < (pool.Spec.CacheTargets?.Count ?? 0); i++)
        {
            var target = pool.Spec.CacheTargets![i].Name;
            if (caches.CacheTargets.Cache.Get(pool.Metadata.NamespaceProperty, target) is null)
            {
                missing.Add($"spec.cacheTargets[{i}].name: RegistryCacheTarget \"{target}\" not found in namespace {pool.Metadata.NamespaceProperty}");
            }
        }

        var endpointBinding = caches.BindingsOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name)
            .Where(b => b.Spec.Kind == SecretBindingKind.EndpointTls && b.Spec.EndpointTls is not null)
            .OrderBy(b => b.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (pool.Spec.Endpoint.Tls.Mode != TlsMode.Disabled && endpointBinding?.Spec.EndpointTls is { } bound)
        {
            foreach (var (field, secret) in new[] { ("serverCertificateSecretRef", bound.ServerCertificateSecretRef.Name), ("clientCASecretRef", bound.ClientCaSecretRef?.Name) })
            {
                if (secret is not null && caches.SecretReader.Cached(pool.Metadata.NamespaceProperty, secret) is null)
                {
                    missing.Add($"SecretBinding {endpointBinding.Metadata.Name}: spec.endpointTLS.{field}: Secret \"{secret}\" not found in namespace {pool.Metadata.NamespaceProperty}");
                }
            }
        }

        if (missing.Count > 0)
        {
            await WriteStatusAsync(cached, pool, Outcome.Stalled("MissingReference", string.Join("; ", missing)), plan: null, now, cancellationToken);
            // A named Secret or cache target arriving enqueues the pool; this recheck is only a backstop.
            return ReconcileResult.After(TimeSpan.FromSeconds(30));
        }

        GatewayTls? tls = null;
        DateTime? renewAt = null;
        if (pool.Spec.Endpoint.Tls.Mode != TlsMode.Disabled)
        {
            PoolTls pki;
            try
            {
                pki = await _certificates.EnsureAsync(pool, now, cancellationToken);
            }
            catch (ChildConflictException ex)
            {
                await WriteStatusAsync(cached, pool, Outcome.Stalled("ChildConflict", ex.Message), plan: null, now, cancellationToken);
                return ReconcileResult.Done;
            }

            renewAt = pki.RenewAt;
            var shape = GatewayTls.For(pool, endpointBinding?.Spec.EndpointTls, digest: null)!;
            var server = shape.ServerSecret == pki.Gateway.Metadata.Name ? pki.Gateway : caches.SecretReader.Cached(pool.Metadata.NamespaceProperty, shape.ServerSecret);
            var clientCa = shape.ClientCa is { } ca ? caches.SecretReader.Cached(pool.Metadata.NamespaceProperty, ca.Name) : null;
            tls = shape with { Digest = SecretDigest.Of([server, pki.Ca, pki.Gateway, clientCa]) };
        }

        var injected = pool.Spec.CacheTargets?.FirstOrDefault(t => t.Inject) is { } inject
            ? caches.CacheTargets.Cache.Get(pool.Metadata.NamespaceProperty, inject.Name)?.Status.BuildxFlags
            : null;
        var plan = BuilderPoolPlanner.Plan(pool, options, await OwnedVolumesAsync(pool, cancellationToken), injected, tls);
        try
        {
            foreach (var volume in plan.Volumes)
            {
                await caches.VolumeWriter.ApplyAsync(volume, cancellationToken);
            }

            await caches.ServiceAccountWriter.ApplyAsync(plan.GatewayServiceAccount, cancellationToken);
            await caches.RoleWriter.ApplyAsync(plan.GatewayRole, cancellationToken);
            await caches.RoleBindingWriter.ApplyAsync(plan.GatewayRoleBinding, cancellationToken);
            await caches.ServiceWriter.ApplyAsync(plan.Service, cancellationToken);
            await caches.DeploymentWriter.ApplyAsync(plan.Gateway, cancellationToken);
            await caches.DisruptionBudgetWriter.ApplyAsync(plan.BuilderDisruptionBudget, cancellationToken);
            await caches.NetworkPolicyWriter.ApplyAsync(plan.BuilderNetworkPolicy, cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            await WriteStatusAsync(cached, pool, Outcome.Stalled("ChildConflict", ex.Message), plan, now, cancellationToken);
            return ReconcileResult.Done;
        }

        // Hashed scale-in: volumes this pool created that the plan no longer lists. Their
        // finalizer drains the builder first, and reclaimPolicy decides the PVC's fate.
        // Dedicated volumes are never removed here: the plan is built from a cache that may not
        // show a volume created a moment ago, and a missing key must not look like a removed one.
        var wanted = plan.Volumes.Select(v => v.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var owned in caches.Volumes.Cache.ListOwnedBy(pool.Metadata.Uid))
        {
            if (pool.Spec.Assignment.Mode == AssignmentMode.Hashed && !wanted.Contains(owned.Metadata.Name) && owned.Metadata.DeletionTimestamp is null)
            {
                Log.ScaleIn(logger, owned.Metadata.Name);
                await caches.VolumeWriter.DeleteAsync(owned, cancellationToken);
            }
        }

        if (plan.UnmetDemand > 0)
        {
            // Dedicated at maxVolumes: make room by evicting the least recently used idle volume.
            // Its finalizer drains it, and the reclaim policy decides whether its cache is kept.
            // One eviction at a time: a volume still draining counts against maxVolumes until it
            // is gone, and evicting another meanwhile would throw away a second warm cache.
            var owned = caches.Volumes.Cache.ListOwnedBy(pool.Metadata.Uid);
            var victim = owned.Any(v => v.Metadata.DeletionTimestamp is not null) ? null : owned
                .Where(v => v.Metadata.DeletionTimestamp is null && v.Status.Phase == CacheVolumePhase.Idle && v.Status.ActiveBuilds == 0)
                .OrderBy(v => v.Status.LastUsed ?? v.Metadata.CreationTimestamp ?? DateTime.MinValue)
                .ThenBy(v => v.Metadata.Name, StringComparer.Ordinal)
                .FirstOrDefault();
            if (victim is not null)
            {
                Log.Evicted(logger, victim.Metadata.Name, plan.UnmetDemand);
                await caches.VolumeWriter.DeleteAsync(victim, cancellationToken);
            }
        }

        if (plan.ConsumedDemand.Count > 0)
        {
            // Served: the keys have their volumes. Removing only these keys leaves requests that
            // other gateway replicas added meanwhile in place.
            var patch = new { metadata = new { annotations = plan.ConsumedDemand.ToDictionary(a => a, _ => (string?)null) } };
            cached = await caches.PoolClient.PatchAsync(pool.Metadata.NamespaceProperty, pool.Metadata.Name, patch, cancellationToken);
            pool.Metadata.ResourceVersion = cached.Metadata.ResourceVersion;
        }

        var outcome = await WriteStatusAsync(cached, pool, outcome: null, plan, now, cancellationToken);
        // While builders start, look again soon even if no event arrives (readiness is probed, not watched).
        var next = outcome.State == OutcomeState.Progressing ? TimeSpan.FromSeconds(15) : (TimeSpan?)null;
        if (plan.UnmetDemand > 0)
        {
            // Keys still wait for a volume (an evicted one may be draining): do not rely on the
            // eviction's delete event alone to bring the pool back, or a key could wait forever.
            next = TimeSpan.FromSeconds(5);
        }

        if (renewAt is { } due)
        {
            // Nothing announces that a certificate is due: come back when it is.
            var untilDue = CertificateRenewal.Until(due, now);
            next = next is { } soon && soon < untilDue ? soon : untilDue;
        }

        return next is { } after ? ReconcileResult.After(after) : ReconcileResult.Done;
    }

    private async Task<Outcome> WriteStatusAsync(BuilderPool cached, BuilderPool pool, Outcome? outcome, BuilderPoolPlan? plan, DateTime now, CancellationToken cancellationToken)
    {
        var volumes = caches.VolumesOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name);
        var gateway = caches.Deployments.Cache.Get(pool.Metadata.NamespaceProperty, ResourceNames.Gateway(pool.Metadata.Name));
        var status = BuilderPoolStatusCalculator.Compute(pool, plan, volumes, gateway, outcome, now, out var decided);
        if (!StatusComparer.Same(cached.Status, status))
        {
            pool.Status = status;
            await caches.PoolClient.ReplaceStatusAsync(pool, cancellationToken);
            if (Conditions.IsTrue(status.Conditions, Conditions.Warning) && !Conditions.IsTrue(cached.Status.Conditions, Conditions.Warning))
            {
                // Once, when the warning appears: the condition stays in status for as long as it holds.
                var warning = status.Conditions.First(c => c.Type == Conditions.Warning);
                await events.RecordAsync(pool, "Warning", warning.Reason, warning.Message, cancellationToken);
            }

            await RecordTransitionAsync(pool, cached.Status.Conditions, decided, cancellationToken);
        }

        return decided;
    }

    // Events for the transitions a person acts on: the pool became Ready, lost Ready, or its spec
    // stalled. Builders starting on a new pool are its normal path and stay in status only.
    private async Task RecordTransitionAsync(BuilderPool pool, IEnumerable<V1Condition>? before, Outcome decided, CancellationToken cancellationToken)
    {
        var wasReady = Conditions.IsTrue(before, Conditions.Ready);
        if (decided.State == OutcomeState.Stalled && !Conditions.IsTrue(before, Conditions.Stalled))
        {
            await events.RecordAsync(pool, "Warning", decided.Reason, decided.Message, cancellationToken);
        }
        else if (decided.State == OutcomeState.Ready && !wasReady)
        {
            await events.RecordAsync(pool, "Normal", decided.Reason, decided.Message, cancellationToken);
        }
        else if (decided.State == OutcomeState.Progressing && wasReady)
        {
            await events.RecordAsync(pool, "Warning", decided.Reason, decided.Message, cancellationToken);
        }
    }

    // The volumes a plan starts from. A Dedicated pool with keys asking for a volume reads them
    // from the API, not the cache: the cache can lag behind the volumes the previous reconcile
    // created, and a plan from it would count fewer keys than exist, serve further keys, remove
    // their demand, and so create more volumes than maxVolumes allows.
    private async Task<IReadOnlyList<CacheVolume>> OwnedVolumesAsync(BuilderPool pool, CancellationToken cancellationToken)
    {
        var cached = caches.Volumes.Cache.ListOwnedBy(pool.Metadata.Uid);
        if (pool.Spec.Assignment.Mode != AssignmentMode.Dedicated
            || pool.Metadata.Annotations?.Keys.Any(k => k.StartsWith(DedicatedKeys.DemandPrefix, StringComparison.Ordinal)) != true)
        {
            return cached;
        }

        var live = await caches.VolumeWriter.Client.ListAsync(pool.Metadata.NamespaceProperty, $"{WellKnown.PoolLabel}={pool.Metadata.Name}", cancellationToken);
        return live.Where(v => v.Metadata.OwnerReferences?.Any(o => o.Uid == pool.Metadata.Uid) == true).ToList();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Invalid spec: {Message}")]
        public static partial void Invalid(ILogger logger, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "Evicting idle cache volume {Volume}: {Waiting} routing keys wait for a volume at maxVolumes")]
        public static partial void Evicted(ILogger logger, string volume, int waiting);

        [LoggerMessage(Level = LogLevel.Information, Message = "Removing cache volume {Volume}: no longer in the pool's plan")]
        public static partial void ScaleIn(ILogger logger, string volume);
    }
}
