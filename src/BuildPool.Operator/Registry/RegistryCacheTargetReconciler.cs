using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Security;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Controllers;
using BuildPool.Runtime.Informers;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Registry;

/// <summary>
/// RegistryCacheTarget: validate, then on a schedule check the registry (reachability and
/// credentials), list the cache tags under the ref and apply retention, then write status
/// (conditions, tag count, bytes, last GC, freed bytes, buildx flags) if it changed.
/// </summary>
/// <remarks>
/// Registry trouble a person must fix (Unreachable, Unauthorized, DeleteDisabled, a missing
/// Secret) is a Stalled condition and is looked at again after a short interval; other
/// registry errors (5xx, unreadable answers) are thrown and retried with backoff.
/// <c>managed: true</c> first creates the in-cluster registry (<see cref="ManagedRegistry"/>:
/// its certificates, PVC, ConfigMap, Deployment, Service and NetworkPolicy, owned by the target)
/// and waits for it to be ready; the checks then run against its Service over mutual TLS, with
/// the registry's client certificate.
/// </remarks>
/// <param name="resolveService">Where a cluster host name really is (tests); null resolves by DNS.</param>
public sealed partial class RegistryCacheTargetReconciler(
    OperatorCaches caches,
    OperatorOptions options,
    TimeProvider time,
    EventRecorder events,
    ILogger<RegistryCacheTargetReconciler> logger,
    Func<System.Net.DnsEndPoint, System.Net.EndPoint?>? resolveService = null)
    : IReconciler<RegistryCacheTarget>
{
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MissingSecretRetry = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RegistryStartingPoll = TimeSpan.FromSeconds(10);

    private readonly RegistryGcSchedule _schedule = new();
    private readonly RegistryCredentialResolver _credentials = new(caches.Bindings.Cache, caches.SecretBindingClient, caches.SecretReader);
    private readonly RegistryCertificates _certificates = new(caches, options, logger);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest request, CancellationToken cancellationToken)
    {
        var key = ObjectKey.Of(request.Namespace, request.Name);
        var cached = caches.CacheTargets.Cache.Get(request.Namespace, request.Name);
        if (cached is null || cached.Metadata.DeletionTimestamp is not null)
        {
            // The cache tags stay: they belong to the registry, and a target is only a view of them.
            _schedule.Forget(key);
            return ReconcileResult.Done;
        }

        var target = ObjectCopy.DeepCopy(cached);
        var now = StatusClock.Now(time);
        var errors = RegistryCacheTargetValidator.Validate(target, out var cacheRef, out var limits);
        if (errors.Count > 0)
        {
            var message = string.Join("; ", errors);
            Log.Invalid(logger, message);
            await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Stalled("InvalidSpec", message), Reachable: null, SpecValid: false), now, cancellationToken);
            return ReconcileResult.Done;
        }

        RegistryTls? registryTls = null;
        if (target.Spec.Managed)
        {
            ReconcileResult? notYet;
            (registryTls, notYet) = await ApplyManagedRegistryAsync(cached, target, limits!, now, cancellationToken);
            if (notYet is { } result)
            {
                return result;
            }
        }

        // A managed registry's certificates are renewed by a reconcile: come back by then.
        var interval = registryTls is null ? options.RegistryGcInterval : Min(options.RegistryGcInterval, CertificateRenewal.Until(registryTls.RenewAt, now));
        if (!_schedule.IsDue(key, target, options.RegistryGcInterval, now, out var wait))
        {
            return ReconcileResult.After(Min(wait, interval));
        }

        var retry = interval < MaxRetry ? interval : MaxRetry;
        var generation = target.Metadata.Generation;
        var lookup = await _credentials.ResolveAsync(target.Metadata.NamespaceProperty, target.Spec.Credentials, cacheRef!.Host, cancellationToken);
        if (lookup.Failed)
        {
            var after = lookup.FailureReason == "MissingSecret" ? MissingSecretRetry : retry;
            _schedule.Set(key, generation, now + after);
            await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Stalled(lookup.FailureReason!, lookup.FailureMessage!), Reachable: null), now, cancellationToken);
            return ReconcileResult.After(after);
        }

        RegistryCheck check;
        // The managed registry speaks TLS and wants the registry's client certificate; any other registry as EndpointFor decides.
        using var handler = RegistryTransport.Create(registryTls?.Client, resolveService);
        using (var client = new RegistryClient(RegistryClient.EndpointFor(cacheRef.Host, plainHttp: false), lookup.Credentials, handler, time))
        {
            try
            {
                check = await CheckAsync(new RegistryGc(client, time), cacheRef, limits!, now, cancellationToken);
            }
            catch (RegistryException ex) when (ex.Kind is RegistryErrorKind.Unreachable or RegistryErrorKind.Unauthorized or RegistryErrorKind.DeleteDisabled)
            {
                Log.RegistryProblem(logger, ex.Kind, ex.Message);
                _schedule.Set(key, generation, now + retry);
                await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Stalled(ex.Kind.ToString(), ex.Message), Reachable: ex.Kind != RegistryErrorKind.Unreachable), now, cancellationToken);
                return ReconcileResult.After(retry);
            }
            catch (RegistryException ex)
            {
                // Transient as far as we know: say so, and let the controller retry with backoff.
                await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Progressing("RegistryError", ex.Message), Reachable: true), now, cancellationToken);
                throw;
            }
        }

        _schedule.Set(key, generation, now + options.RegistryGcInterval);
        await WriteStatusAsync(cached, target, check, now, cancellationToken);
        return ReconcileResult.After(interval);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async Task<RegistryCheck> CheckAsync(RegistryGc gc, CacheRef cacheRef, RetentionLimits limits, DateTime now, CancellationToken cancellationToken)
    {
        if (limits.IsNone)
        {
            var inventory = await gc.InventoryAsync(cacheRef, cancellationToken);
            return inventory.Listed
                ? new RegistryCheck(Outcome.Ready("Reachable", $"{inventory.Tags.Count} cache tags, {Quantity.FormatApproximate(inventory.Bytes)}; no retention set"), true, inventory.Tags.Count, inventory.Bytes)
                : new RegistryCheck(Outcome.Ready("Reachable", $"registry reachable; {inventory.NotListedReason}"), true);
        }

        var result = await gc.RunAsync(cacheRef, limits, dryRun: false, d => Log.Deleted(logger, d.Tag.Reference, d.Tag.Digest, d.Reason), cancellationToken);
        if (!result.Inventory.Listed)
        {
            return new RegistryCheck(Outcome.Ready("Reachable", $"registry reachable; retention did not run: {result.Inventory.NotListedReason}"), true);
        }

        var message = $"retention ({limits}) deleted {result.Deleted.Count} of {result.Inventory.Tags.Count} cache tags, freeing {Quantity.FormatApproximate(result.FreedBytes)}; "
            + $"{result.TagsAfter} tags, {Quantity.FormatApproximate(result.Plan.BytesAfter)} remain";
        return new RegistryCheck(Outcome.Ready("RetentionApplied", message), true, result.TagsAfter, result.Plan.BytesAfter, now, result.FreedBytes, DeletedTags: result.Deleted.Count);
    }

    /// <summary>
    /// Creates or updates the managed registry's certificates, PVC, Service, NetworkPolicy, ConfigMap
    /// and Deployment; with no result once the registry is ready (the check then runs against its
    /// Service with the client certificate returned), else with what to return.
    /// </summary>
    private async Task<(RegistryTls? Tls, ReconcileResult? NotYet)> ApplyManagedRegistryAsync(RegistryCacheTarget cached, RegistryCacheTarget target, RetentionLimits limits, DateTime now, CancellationToken cancellationToken)
    {
        V1Deployment deployment;
        RegistryTls tls;
        try
        {
            // Certificates first: the Deployment mounts the server certificate and carries its digest.
            tls = await _certificates.EnsureAsync(target, now, cancellationToken);
            await ClaimApplier.ApplyAsync(caches.ClaimWriter, ManagedRegistry.Claim(target, limits), existing =>
            {
                var owner = existing.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
                if (owner is null ? ManagedRegistry.TargetOf(existing.Metadata) != target.Metadata.Name : owner.Uid != target.Metadata.Uid)
                {
                    throw new ChildConflictException($"PersistentVolumeClaim {existing.Metadata.NamespaceProperty}/{existing.Metadata.Name} already exists and does not belong to RegistryCacheTarget {target.Metadata.Name}");
                }
            }, [], cancellationToken);
            await caches.ServiceWriter.ApplyAsync(ManagedRegistry.Service(target), cancellationToken);
            var pools = ManagedRegistry.PoolsUsing(target, caches.Pools.Cache.ListInNamespace(target.Metadata.NamespaceProperty));
            await caches.NetworkPolicyWriter.ApplyAsync(ManagedRegistry.NetworkPolicy(target, pools, options.OperatorNamespace), cancellationToken);
            await caches.ConfigMapWriter.ApplyAsync(ManagedRegistry.ConfigMap(target), cancellationToken);
            deployment = await caches.DeploymentWriter.ApplyAsync(WithPullSecrets(ManagedRegistry.Deployment(target, SecretDigest.Of([tls.Server]))), cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Stalled("ChildConflict", ex.Message), Reachable: null), now, cancellationToken);
            return (null, ReconcileResult.Done);
        }

        if ((deployment.Status?.ReadyReplicas ?? 0) < 1)
        {
            // The Deployment's own changes bring the target back; the poll covers a missed event.
            var message = $"waiting for the in-cluster registry (Deployment {deployment.Metadata.Name}) to become ready at {ManagedRegistry.Host(target)}";
            await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Progressing("RegistryStarting", message), Reachable: null), now, cancellationToken);
            return (tls, ReconcileResult.After(RegistryStartingPoll));
        }

        return (tls, null);
    }

    private V1Deployment WithPullSecrets(V1Deployment deployment)
    {
        deployment.Spec.Template.Spec.ImagePullSecrets = PullSecrets.For(options);
        return deployment;
    }

    private async Task WriteStatusAsync(RegistryCacheTarget cached, RegistryCacheTarget target, RegistryCheck check, DateTime now, CancellationToken cancellationToken)
    {
        var status = RegistryCacheTargetStatusCalculator.Compute(cached, check, now);
        if (!StatusComparer.Same(cached.Status, status))
        {
            target.Status = status;
            await caches.CacheTargetClient.ReplaceStatusAsync(target, cancellationToken);
            await events.RecordTransitionAsync(target, cached.Status.Conditions, check.Outcome, cancellationToken);
        }

        if (check.DeletedTags > 0)
        {
            // Deleted cache tags are gone for every build that would import them: say so where people look.
            await events.RecordAsync(target, "Normal", "RetentionApplied", check.Outcome.Message, cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Invalid spec: {Message}")]
        public static partial void Invalid(ILogger logger, string message);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Registry {Kind}: {Message}")]
        public static partial void RegistryProblem(ILogger logger, RegistryErrorKind kind, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "Deleted cache tag {Reference} ({Digest}): {Reason}")]
        public static partial void Deleted(ILogger logger, string reference, string digest, string reason);
    }
}
