using System.Collections.Concurrent;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// The data-safety promises of issue 10, checked while a chaos run happens and once more at its end:
/// <list type="bullet">
/// <item>a claim of a <c>Retain</c> volume is never deleted, and exists at the end with the UID it was first seen with;</item>
/// <item>no claim is deleted while a builder Deployment for its volume has replicas (spec or status) above zero;</item>
/// <item>no claim is replaced by a new one of the same name (a new UID is an empty cache);</item>
/// <item>never more than one running builder per volume, and no builder Deployment above one replica.</item>
/// </list>
/// The live checks run inside the operator's HTTP pipeline (<see cref="InstrumentedHandler"/>): just
/// before each claim delete is sent and just after each Deployment write is answered, so a violating
/// state is seen at the request that creates it, not only if a poll happens to catch it.
/// Reads go through an observer client; the API's injected 500s are retried.
/// </summary>
internal sealed class DataSafetyChecker(IKubernetes observer)
{
    private readonly ResourceClient<V1PersistentVolumeClaim> _claims = new(observer);
    private readonly ResourceClient<V1Deployment> _deployments = new(observer);
    private readonly ConcurrentDictionary<(string Ns, string Name), (string Uid, bool Retain)> _seenClaims = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private long _checks;

    public IReadOnlyList<string> Violations => [.. _violations];

    /// <summary>How many times an invariant was evaluated, for the chaos summary.</summary>
    public long Checks => Interlocked.Read(ref _checks);

    public async Task BeforeClaimDeleteAsync(string instance, string ns, string name)
    {
        Interlocked.Increment(ref _checks);
        var claim = await ReadAsync(() => _claims.GetAsync(ns, name));
        if (claim is null)
        {
            return;
        }

        var policy = claim.Metadata.Labels.Lookup(BuilderChildrenPlanner.ReclaimPolicyLabel);
        if (policy != "Delete")
        {
            _violations.Enqueue($"{instance} deleted claim {ns}/{name} whose reclaim policy is {policy ?? "unset"}");
        }

        var volume = claim.Metadata.Labels.Lookup(WellKnown.VolumeLabel) ?? name[..^"-state".Length];
        var builder = await ReadAsync(() => _deployments.GetAsync(ns, ResourceNames.Builder(volume)));
        if (builder is not null && ((builder.Spec?.Replicas ?? 1) > 0 || (builder.Status?.Replicas ?? 0) > 0))
        {
            _violations.Enqueue($"{instance} deleted claim {ns}/{name} while builder {builder.Metadata.Name} had {builder.Spec?.Replicas} replicas ({builder.Status?.Replicas ?? 0} running)");
        }
    }

    public async Task AfterDeploymentWriteAsync(string instance, string ns)
    {
        Interlocked.Increment(ref _checks);
        var builders = await ReadAsync(() => _deployments.ListAsync(ns, $"{WellKnown.ComponentLabel}={WellKnown.BuilderComponent}"));
        foreach (var volume in builders.GroupBy(d => d.Metadata.Labels.Lookup(WellKnown.VolumeLabel) ?? d.Metadata.Name))
        {
            var running = volume.Where(d => (d.Spec?.Replicas ?? 1) > 0).Select(d => d.Metadata.Name).ToList();
            if (running.Count > 1)
            {
                _violations.Enqueue($"after a write by {instance}: volume {ns}/{volume.Key} has {running.Count} running builders: {string.Join(", ", running)}");
            }

            foreach (var d in volume.Where(d => (d.Spec?.Replicas ?? 1) > 1))
            {
                _violations.Enqueue($"after a write by {instance}: builder {ns}/{d.Metadata.Name} has {d.Spec.Replicas} replicas");
            }
        }
    }

    /// <summary>Remembers each claim's UID the first time it is seen; a claim that comes back with another UID was recreated.</summary>
    public async Task ObserveClaimsAsync(string ns)
    {
        Interlocked.Increment(ref _checks);
        foreach (var claim in await ReadAsync(() => _claims.ListAsync(ns)))
        {
            var retain = claim.Metadata.Labels.Lookup(BuilderChildrenPlanner.ReclaimPolicyLabel) != "Delete";
            var key = (ns, claim.Metadata.Name);
            var seen = _seenClaims.GetOrAdd(key, (claim.Metadata.Uid, retain));
            if (seen.Uid != claim.Metadata.Uid)
            {
                _violations.Enqueue($"claim {ns}/{claim.Metadata.Name} was recreated (UID {seen.Uid} -> {claim.Metadata.Uid}): its cache was lost");
                _seenClaims[key] = (claim.Metadata.Uid, retain);
            }
        }
    }

    /// <summary>The end-of-run check: every Retain claim ever seen still exists, unchanged, and the builder rule holds.</summary>
    public async Task<IReadOnlyList<string>> FinalCheckAsync(string ns)
    {
        await ObserveClaimsAsync(ns);
        await AfterDeploymentWriteAsync("the final check", ns);
        var claims = (await ReadAsync(() => _claims.ListAsync(ns))).ToDictionary(c => c.Metadata.Name, c => c.Metadata.Uid, StringComparer.Ordinal);
        foreach (var ((claimNs, name), (uid, retain)) in _seenClaims)
        {
            if (claimNs == ns && retain && claims.GetValueOrDefault(name) != uid)
            {
                _violations.Enqueue($"claim {ns}/{name} of a Retain volume is gone (was UID {uid})");
            }
        }

        return Violations;
    }

    /// <summary>UID each claim had when first seen.</summary>
    public string? FirstUid(string ns, string name) => _seenClaims.TryGetValue((ns, name), out var seen) ? seen.Uid : null;

    private static async Task<T> ReadAsync<T>(Func<Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await read();
            }
            catch (KubernetesApiException e) when ((int)e.StatusCode >= 500 && attempt < 20)
            {
                // Injected faults hit the observer too; the check must not miss a state because of one.
            }
            catch (HttpRequestException) when (attempt < 20)
            {
            }
        }
    }
}
