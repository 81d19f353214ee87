using System.Net;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Diagnosis;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Security;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
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
    // Signals about a volume the cache does not show are removed only after this long: a volume
    // created a moment ago may not be in the cache yet.
    private static readonly TimeSpan GoneSignalGrace = TimeSpan.FromMinutes(2);

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
        await caches.LoadSecretsOfAsync(pool, cancellationToken);
        if ((Invalid(pool) ?? MissingReferences(pool, endpointBinding)) is { } stop)
        {
            await WriteStatusAsync(cached, pool, stop.Outcome, plan: null, now, cancellationToken);
            return stop.Next;
        }

        GatewayTls? tls;
        DateTime? renewAt;
        BuilderTrustDecision? trust;
        try
        {
            (tls, renewAt, trust) = await GatewayTlsAsync(pool, endpointBinding, now, cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            await WriteStatusAsync(cached, pool, Outcome.Stalled("ChildConflict", ex.Message), plan: null, now, cancellationToken);
            return ReconcileResult.Done;
        }

        if (trust is { Advanced: true })
        {
            // Right after the step is recorded on the internal CA Secret: whatever fails later in
            // this reconcile, the step a person follows has its Event.
            await events.RecordAsync(pool, "Normal", $"BuilderTrust{trust.Step}", trust.Message, cancellationToken);
        }

        var injected = pool.Spec.CacheTargets?.FirstOrDefault(t => t.Inject) is { } inject
            ? caches.CacheTargets.Cache.Get(pool.Metadata.NamespaceProperty, inject.Name)
            : null;
        var signals = caches.SignalsOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name);
        var owned = await OwnedVolumesAsync(pool, signals, cancellationToken);
        var dedicated = pool.Spec.Assignment.Mode == AssignmentMode.Dedicated
            ? DedicatedDemandPlanner.Plan(pool, owned, signals.Demands, options.DemandTtl, now)
            : null;
        var plan = BuilderPoolPlanner.Plan(pool, options, owned, injected, tls, dedicated);
        try
        {
            await ApplyChildrenAsync(pool, plan, cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            await WriteStatusAsync(cached, pool, Outcome.Stalled("ChildConflict", ex.Message), plan, now, cancellationToken);
            return ReconcileResult.Done;
        }

        await RemoveVolumesAsync(VolumeRemovalPlanner.Plan(pool, plan, caches.Volumes.Cache.ListOwnedBy(pool.Metadata.Uid)), plan, cancellationToken);
        await TidySignalsAsync(pool, plan, signals, now, cancellationToken);
        var trustBefore = cached.Status.Conditions?.FirstOrDefault(c => c.Type == BuilderPoolStatusCalculator.BuilderTrustCondition)?.Reason;
        // Children stay applied (the gateway refuses anonymous builds as untrusted meanwhile); the
        // condition tells a person that the two settings contradict each other.
        var conflict = BuilderPoolValidator.AnonymousWithUntrusted(pool, caches.BindingsOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name));
        var outcome = await WriteStatusAsync(cached, pool, conflict is null ? null : Outcome.Stalled("AnonymousWithUntrusted", conflict), plan, now, cancellationToken, trust);
        if (trust is { Advanced: false } && trustBefore is not null && trustBefore != BuilderPoolStatusCalculator.BuilderTrustReason(trust))
        {
            // An earlier reconcile took the step and ended before its status said so: its Event may be missing.
            await events.RecordAsync(pool, "Normal", $"BuilderTrust{trust.Step}", trust.Message, cancellationToken);
        }

        return Next(outcome, plan, renewAt, trust, now);
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

    /// <summary>
    /// The gateway's TLS files, when the pool's certificates are due for renewal, and where its
    /// builders stand in trusting only the internal CA; nulls when TLS is off.
    /// </summary>
    private async Task<(GatewayTls? Tls, DateTime? RenewAt, BuilderTrustDecision? Trust)> GatewayTlsAsync(BuilderPool pool, SecretBinding? endpointBinding, DateTime now, CancellationToken cancellationToken)
    {
        if (pool.Spec.Endpoint.Tls.Mode == TlsMode.Disabled)
        {
            return (null, null, null);
        }

        var ns = pool.Metadata.NamespaceProperty;
        var pki = await _certificates.EnsureAsync(pool, now, cancellationToken);
        var shape = GatewayTls.For(pool, endpointBinding?.Spec.EndpointTls, digest: null)!;
        var server = shape.ServerSecret == pki.Gateway.Metadata.Name ? pki.Gateway : caches.SecretReader.Cached(ns, shape.ServerSecret);
        var clientCa = shape.ClientCa is { } ca ? caches.SecretReader.Cached(ns, ca.Name) : null;
        return (shape with { Digest = SecretDigest.Of([server, pki.Ca, pki.Upstream, clientCa]), UpstreamSecret = pki.Upstream.Metadata.Name }, pki.RenewAt, pki.Trust);
    }

    // The pool's own objects first, then its volumes one by one: a volume the API refuses must
    // never keep the gateway, its RBAC or the builders' NetworkPolicy from being applied, nor the
    // other volumes.
    private async Task ApplyChildrenAsync(BuilderPool pool, BuilderPoolPlan plan, CancellationToken cancellationToken)
    {
        await caches.SignalWriter.ApplyAsync(plan.SignalLease, cancellationToken);
        await caches.ServiceAccountWriter.ApplyAsync(plan.GatewayServiceAccount, cancellationToken);
        await caches.RoleWriter.ApplyAsync(plan.GatewayRole, cancellationToken);
        await caches.RoleBindingWriter.ApplyAsync(plan.GatewayRoleBinding, cancellationToken);
        await caches.ServiceWriter.ApplyAsync(plan.Service, cancellationToken);
        await caches.DeploymentWriter.ApplyAsync(plan.Gateway, cancellationToken);
        await caches.DisruptionBudgetWriter.ApplyAsync(plan.BuilderDisruptionBudget, cancellationToken);
        await caches.NetworkPolicyWriter.ApplyAsync(plan.BuilderNetworkPolicy, cancellationToken);
        foreach (var volume in plan.Volumes)
        {
            try
            {
                await caches.VolumeWriter.ApplyAsync(volume, cancellationToken);
            }
            catch (KubernetesApiException ex) when (ex.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest)
            {
                Log.VolumeRefused(logger, volume.Metadata.Name, ex.Message);
                await events.RecordAsync(pool, "Warning", "VolumeRefused", $"CacheVolume {volume.Metadata.Name} was refused by the API: {ex.Message}", cancellationToken);
            }
        }
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
    /// Removes from the signal Lease what the operator has acted on or refuses: demands whose key
    /// now has a volume, demands dropped (an invalid key, or none asked within the demand TTL:
    /// one Event says which), signals that cannot be read, and signals about volumes long gone.
    /// Only these annotations: requests other gateway replicas added meanwhile stay.
    /// </summary>
    private async Task TidySignalsAsync(BuilderPool pool, BuilderPoolPlan plan, PoolSignals signals, DateTime now, CancellationToken cancellationToken)
    {
        var ns = pool.Metadata.NamespaceProperty;
        var volumes = caches.VolumesOf(ns, pool.Metadata.Name).Select(v => v.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var gone = signals.VolumeSignals.Where(s => !volumes.Contains(s.Subject) && now - s.At > GoneSignalGrace).Select(s => s.Name);
        var remove = plan.Dedicated.Consumed
            .Concat(plan.Dedicated.Dropped.Select(d => d.Signal.Name))
            .Concat(signals.Invalid.Select(s => s.Name))
            .Concat(gone)
            .ToHashSet(StringComparer.Ordinal);
        if (remove.Count == 0)
        {
            return;
        }

        var patch = new { metadata = new { annotations = remove.ToDictionary(a => a, _ => (string?)null) } };
        try
        {
            await caches.SignalWriter.Client.PatchAsync(ns, plan.SignalLease.Metadata.Name, patch, cancellationToken);
        }
        catch (NotFoundException)
        {
            // Deleted meanwhile: the next reconcile creates it again, empty.
            return;
        }

        var refused = plan.Dedicated.Dropped.Select(d => $"key \"{Shorten(d.Signal.Detail)}\" of tenant {d.Signal.Subject}: {d.Why}")
            .Concat(signals.Invalid.Select(s => $"{s.Name}: {s.Invalid}"))
            .ToList();
        if (refused.Count > 0)
        {
            Log.DemandDropped(logger, refused.Count, refused[0]);
            // One Event per reconcile, naming a few: a client sending many bad keys must not flood the Events.
            var message = $"dropped {refused.Count} volume request(s) of the gateway: {string.Join("; ", refused.Take(3))}{(refused.Count > 3 ? "; …" : string.Empty)}";
            await events.RecordAsync(pool, "Warning", "DemandDropped", message, cancellationToken);
        }
    }

    private static string Shorten(string? text) => text is null ? string.Empty : text.Length <= 80 ? text : text[..80] + "…";

    private static ReconcileResult Next(Outcome outcome, BuilderPoolPlan plan, DateTime? renewAt, BuilderTrustDecision? trust, DateTime now)
    {
        // While builders start, look again soon even if no event arrives (readiness is probed, not watched).
        var next = outcome.State == OutcomeState.Progressing ? TimeSpan.FromSeconds(15) : (TimeSpan?)null;
        if (trust is { Done: false })
        {
            // Each step of the move to the internal CA waits for restarts, which nothing here watches.
            next = TimeSpan.FromSeconds(5);
        }

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

    private async Task<Outcome> WriteStatusAsync(BuilderPool cached, BuilderPool pool, Outcome? outcome, BuilderPoolPlan? plan, DateTime now, CancellationToken cancellationToken, BuilderTrustDecision? trust = null)
    {
        var volumes = caches.VolumesOf(pool.Metadata.NamespaceProperty, pool.Metadata.Name);
        var gateway = caches.Deployments.Cache.Get(pool.Metadata.NamespaceProperty, ResourceNames.Gateway(pool.Metadata.Name));
        var gatewayFailure = StartDiagnosis.Diagnose(Workload.Gateway, gateway, await caches.Starts.ReadAsync(gateway, claim: null, cancellationToken));
        var status = BuilderPoolStatusCalculator.Compute(pool, plan, volumes, gateway, outcome, now, out var decided, trust, gatewayFailure);
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

            // Builders starting on a new pool are its normal path and stay in status only.
            await events.RecordTransitionAsync(pool, cached.Status.Conditions, decided, cancellationToken);
        }

        return decided;
    }

    // The volumes a plan starts from. A Dedicated pool with keys asking for a volume reads them
    // from the API, not the cache: the cache can lag behind the volumes the previous reconcile
    // created, and a plan from it would count fewer keys than exist, serve further keys, remove
    // their demand, and so create more volumes than maxVolumes allows.
    private async Task<IReadOnlyList<CacheVolume>> OwnedVolumesAsync(BuilderPool pool, PoolSignals signals, CancellationToken cancellationToken)
    {
        var cached = caches.Volumes.Cache.ListOwnedBy(pool.Metadata.Uid);
        if (pool.Spec.Assignment.Mode != AssignmentMode.Dedicated || signals.Demands.Count == 0)
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

        [LoggerMessage(Level = LogLevel.Warning, Message = "The API refused cache volume {Volume}; the pool's other objects are applied: {Error}")]
        public static partial void VolumeRefused(ILogger logger, string volume, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {Count} volume requests of the gateway, first: {First}")]
        public static partial void DemandDropped(ILogger logger, int count, string first);

        [LoggerMessage(Level = LogLevel.Information, Message = "Removing cache volume {Volume}: no longer in the pool's plan")]
        public static partial void ScaleIn(ILogger logger, string volume);
    }
}
