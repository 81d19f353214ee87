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
        var endpointBinding = EndpointBinding(pool);
        if ((Invalid(pool) ?? MissingReferences(pool, endpointBinding)) is { } stop)
        {
            await WriteStatusAsync(cached, pool, stop.Outcome, plan: null, now, cancellationToken);
            return stop.Next;
        }

        GatewayTls? tls;
        DateTime? renewAt;
        try
        {
            (tls, renewAt) = await GatewayTlsAsync(pool, endpointBinding, now, cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            await WriteStatusAsync(cached, pool, Outcome.Stalled("ChildConflict", ex.Message), plan: null, now, cancellationToken);
            return ReconcileResult.Done;
        }

        var injected = pool.Spec.CacheTargets?.FirstOrDefault(t => t.Inject) is { } inject
            ? caches.CacheTargets.Cache.Get(pool.Metadata.NamespaceProperty, inject.Name)?.Status.BuildxFlags
            : null;
        var plan = BuilderPoolPlanner.Plan(pool, options, await OwnedVolumesAsync(pool, cancellationToken), injected, tls);
        try
        {
            await ApplyChildrenAsync(plan, cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            await WriteStatusAsync(cached, pool, Outcome.Stalled("ChildConflict", ex.Message), plan, now, cancellationToken);
            return ReconcileResult.Done;
        }

        await RemoveVolumesAsync(VolumeRemovalPlanner.Plan(pool, plan, caches.Volumes.Cache.ListOwnedBy(pool.Metadata.Uid)), plan, cancellationToken);
        cached = await ConsumeDemandAsync(cached, pool, plan, cancellationToken);
        var outcome = await WriteStatusAsync(cached, pool, outcome: null, plan, now, cancellationToken);
        return Next(outcome, plan, renewAt, now);
    }

    /// <summary>Why the reconcile stops before planning, and when to look again.</summary>
    private sealed record Stop(Outcome Outcome, ReconcileResult Next);

    private Stop? Invalid(BuilderPool pool)
    {
        var errors = BuilderPoolValidator.Validate(pool);
        if (errors.Count == 0)
        {
            return null;
        }

        var message = string.Join("; ", errors);
        Log.Invalid(logger, message);
        return new Stop(Outcome.Stalled("InvalidSpec", message), ReconcileResult.Done);
    }

    private SecretBinding? EndpointBinding(BuilderPool pool) =>
        caches.BindingsOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name)
            .Where(b => b.Spec.Kind == SecretBindingKind.EndpointTls && b.Spec.EndpointTls is not null)
            .OrderBy(b => b.Metadata.Name, StringComparer.Ordinal)
            .FirstOrDefault();

    /// <summary>Secrets and cache targets the spec or its endpoint binding names that do not exist.</summary>
    private Stop? MissingReferences(BuilderPool pool, SecretBinding? endpointBinding)
    {
        var ns = pool.Metadata.NamespaceProperty;
        var missing = SecretChecks.Missing(pool, name => caches.SecretReader.Cached(ns, name)).ToList();
        for (var i = 0; i < (pool.Spec.CacheTargets?.Count ?? 0); i++)
        {
            var target = pool.Spec.CacheTargets![i].Name;
            if (caches.CacheTargets.Cache.Get(ns, target) is null)
            {
                missing.Add($"spec.cacheTargets[{i}].name: RegistryCacheTarget \"{target}\" not found in namespace {ns}");
            }
        }

        if (pool.Spec.Endpoint.Tls.Mode != TlsMode.Disabled && endpointBinding?.Spec.EndpointTls is { } bound)
        {
            foreach (var (field, secret) in new[] { ("serverCertificateSecretRef", bound.ServerCertificateSecretRef.Name), ("clientCASecretRef", bound.ClientCaSecretRef?.Name) })
            {
                if (secret is not null && caches.SecretReader.Cached(ns, secret) is null)
                {
                    missing.Add($"SecretBinding {endpointBinding.Metadata.Name}: spec.endpointTLS.{field}: Secret \"{secret}\" not found in namespace {ns}");
                }
            }
        }

        // A named Secret or cache target arriving enqueues the pool; this recheck is only a backstop.
        return missing.Count > 0 ? new Stop(Outcome.Stalled("MissingReference", string.Join("; ", missing)), ReconcileResult.After(TimeSpan.FromSeconds(30))) : null;
    }

    /// <summary>The gateway's TLS files and when the pool's certificates are due for renewal; nulls when TLS is off.</summary>
    private async Task<(GatewayTls? Tls, DateTime? RenewAt)> GatewayTlsAsync(BuilderPool pool, SecretBinding? endpointBinding, DateTime now, CancellationToken cancellationToken)
    {
        if (pool.Spec.Endpoint.Tls.Mode == TlsMode.Disabled)
        {
            return (null, null);
        }

        var ns = pool.Metadata.NamespaceProperty;
        var pki = await _certificates.EnsureAsync(pool, now, cancellationToken);
        var shape = GatewayTls.For(pool, endpointBinding?.Spec.EndpointTls, digest: null)!;
        var server = shape.ServerSecret == pki.Gateway.Metadata.Name ? pki.Gateway : caches.SecretReader.Cached(ns, shape.ServerSecret);
        var clientCa = shape.ClientCa is { } ca ? caches.SecretReader.Cached(ns, ca.Name) : null;
        return (shape with { Digest = SecretDigest.Of([server, pki.Ca, pki.Gateway, clientCa]) }, pki.RenewAt);
    }

    private async Task ApplyChildrenAsync(BuilderPoolPlan plan, CancellationToken cancellationToken)
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

    private async Task RemoveVolumesAsync(VolumeRemovals removals, BuilderPoolPlan plan, CancellationToken cancellationToken)
    {
        foreach (var volume in removals.ScaleIn)
        {
            Log.ScaleIn(logger, volume.Metadata.Name);
            await caches.VolumeWriter.DeleteAsync(volume, cancellationToken);
        }

        if (removals.Evict is { } victim)
        {
            Log.Evicted(logger, victim.Metadata.Name, plan.UnmetDemand);
            await caches.VolumeWriter.DeleteAsync(victim, cancellationToken);
        }
    }

    /// <summary>
    /// Removes the demand annotations of keys that now have their volumes; only these keys, so
    /// requests other gateway replicas added meanwhile stay. Returns the pool as last written.
    /// </summary>
    private async Task<BuilderPool> ConsumeDemandAsync(BuilderPool cached, BuilderPool pool, BuilderPoolPlan plan, CancellationToken cancellationToken)
    {
        if (plan.ConsumedDemand.Count == 0)
        {
            return cached;
        }

        var patch = new { metadata = new { annotations = plan.ConsumedDemand.ToDictionary(a => a, _ => (string?)null) } };
        var patched = await caches.PoolClient.PatchAsync(pool.Metadata.NamespaceProperty, pool.Metadata.Name, patch, cancellationToken);
        pool.Metadata.ResourceVersion = patched.Metadata.ResourceVersion;
        return patched;
    }

    private static ReconcileResult Next(Outcome outcome, BuilderPoolPlan plan, DateTime? renewAt, DateTime now)
    {
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
