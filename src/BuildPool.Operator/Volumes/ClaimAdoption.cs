using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using k8s.Models;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Pure: whether an existing state claim is a volume's to use and settle, and which reclaim
/// policy it keeps. A claim is this volume's only when it carries BuildPool's labels for it
/// (managed-by, pool and volume): a claim that merely has the name <c>&lt;volume&gt;-state</c>
/// may hold anyone's data, and taking it would hand that data to this pool's reclaim policy.
/// Retain is sticky: a claim once labelled Retain stays Retain whichever pool adopts it, so a
/// retained cache is never deleted because a Delete pool (or a fork label) picked it up.
/// </summary>
public static class ClaimAdoption
{
    public const string ConflictReason = "ClaimConflict";

    /// <summary>Why the claim is not this volume's (naming it and the labels it lacks), or null when it is.</summary>
    public static string? Conflict(V1PersistentVolumeClaim claim, CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(volume);
        var want = Owners.VolumeLabels(volume.Spec.Pool, volume.Metadata.Name);
        var missing = new[] { WellKnown.ManagedByLabel, WellKnown.PoolLabel, WellKnown.VolumeLabel }
            .Where(key => claim.Metadata.Labels?.Lookup(key) != want[key])
            .Select(key => $"{key}={want[key]}")
            .ToList();
        return missing.Count == 0
            ? null
            : $"PersistentVolumeClaim {claim.Metadata.NamespaceProperty}/{claim.Metadata.Name} exists but is not this volume's (it lacks {string.Join(", ", missing)}); "
              + "BuildPool neither uses, relabels nor deletes it. Delete or rename it, or add those labels to hand its data to this volume";
    }

    /// <summary>
    /// Checks an existing claim before it is written to: throws <see cref="ChildConflictException"/>
    /// when it is not the volume's, and keeps Retain on <paramref name="desired"/> when the claim has it.
    /// </summary>
    public static void Verify(V1PersistentVolumeClaim existing, V1PersistentVolumeClaim desired, CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(desired);
        if (Conflict(existing, volume) is { } why)
        {
            throw new ChildConflictException(why);
        }

        desired.Metadata.Labels[BuilderChildrenPlanner.ReclaimPolicyLabel] = ReclaimPolicyOf(existing, desired.Metadata.Labels[BuilderChildrenPlanner.ReclaimPolicyLabel]);
    }

    /// <summary>The reclaim policy a claim keeps: Retain once it had it, else <paramref name="desired"/>.</summary>
    public static string ReclaimPolicyOf(V1PersistentVolumeClaim existing, string desired)
    {
        ArgumentNullException.ThrowIfNull(existing);
        var retained = existing.Metadata.Labels?.Lookup(BuilderChildrenPlanner.ReclaimPolicyLabel) == nameof(ReclaimPolicy.Retain)
            || existing.Metadata.Annotations?.ContainsKey(WellKnown.RetainedAnnotation) == true;
        return retained ? nameof(ReclaimPolicy.Retain) : desired;
    }
}
