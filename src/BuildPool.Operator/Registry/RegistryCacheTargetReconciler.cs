using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
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
/// PVC, Deployment, Service, owned by the target) and waits for it to be ready; the checks then
/// run against its Service over plain HTTP.
/// </remarks>
public sealed partial class RegistryCacheTargetReconciler(
    OperatorCaches caches,
    OperatorOptions options,
    TimeProvider time,
    ILogger<RegistryCacheTargetReconciler> logger,
    Func<Uri, RegistryCredentials?, RegistryClient>? clientFactory = null)
    : IReconciler<RegistryCacheTarget>
{
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MissingSecretRetry = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RegistryStartingPoll = TimeSpan.FromSeconds(10);

    private readonly RegistryGcSchedule _schedule = new();
    private readonly RegistryCredentialResolver _credentials = new(caches.Bindings.Cache, caches.SecretBindingClient, caches.SecretReader);
    private readonly Func<Uri, RegistryCredentials?, RegistryClient> _clients = clientFactory ?? ((endpoint, credentials) => new RegistryClient(endpoint, credentials, time: time));

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

        if (target.Spec.Managed && await ApplyManagedRegistryAsync(cached, target, limits!, now, cancellationToken) is { } notYet)
        {
            return notYet;
        }

        var interval = options.RegistryGcInterval;
        if (!_schedule.IsDue(key, target, interval, now, out var wait))
        {
            return ReconcileResult.After(wait);
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
        // The managed registry is plain HTTP behind its Service; any other registry as EndpointFor decides.
        using (var client = _clients(RegistryClient.EndpointFor(cacheRef.Host, plainHttp: target.Spec.Managed), lookup.Credentials))
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

        _schedule.Set(key, generation, now + interval);
        await WriteStatusAsync(cached, target, check, now, cancellationToken);
        return ReconcileResult.After(interval);
    }

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
        return new RegistryCheck(Outcome.Ready("RetentionApplied", message), true, result.TagsAfter, result.Plan.BytesAfter, now, result.FreedBytes);
    }

    /// <summary>
    /// Creates or updates the managed registry's PVC, Service, NetworkPolicy and Deployment; null once the
    /// registry is ready (the check then runs against its Service), else what to return.
    /// </summary>
    private async Task<ReconcileResult?> ApplyManagedRegistryAsync(RegistryCacheTarget cached, RegistryCacheTarget target, RetentionLimits limits, DateTime now, CancellationToken cancellationToken)
    {
        V1Deployment deployment;
        try
        {
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
            deployment = await caches.DeploymentWriter.ApplyAsync(ManagedRegistry.Deployment(target), cancellationToken);
        }
        catch (ChildConflictException ex)
        {
            await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Stalled("ChildConflict", ex.Message), Reachable: null), now, cancellationToken);
            return ReconcileResult.Done;
        }

        if ((deployment.Status?.ReadyReplicas ?? 0) < 1)
        {
            // The Deployment's own changes bring the target back; the poll covers a missed event.
            var message = $"waiting for the in-cluster registry (Deployment {deployment.Metadata.Name}) to become ready at {ManagedRegistry.Host(target)}";
            await WriteStatusAsync(cached, target, new RegistryCheck(Outcome.Progressing("RegistryStarting", message), Reachable: null), now, cancellationToken);
            return ReconcileResult.After(RegistryStartingPoll);
        }

        return null;
    }

    private async Task WriteStatusAsync(RegistryCacheTarget cached, RegistryCacheTarget target, RegistryCheck check, DateTime now, CancellationToken cancellationToken)
    {
        var status = RegistryCacheTargetStatusCalculator.Compute(cached, check, now);
        if (!StatusComparer.Same(cached.Status, status))
        {
            target.Status = status;
            await caches.CacheTargetClient.ReplaceStatusAsync(target, cancellationToken);
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
