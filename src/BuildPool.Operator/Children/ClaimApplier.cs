using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Children;

/// <summary>
/// Creates a claim, or grows it and fixes its labels. A claim's spec is immutable but for its
/// size, and an existing claim (retained, or made by an earlier version) is reused as it is: so
/// a claim is never replaced, never shrunk.
/// </summary>
public static class ClaimApplier
{
    /// <param name="verifyExisting">Throws (e.g. <see cref="ChildConflictException"/>) when an existing claim is not ours to adopt.</param>
    /// <param name="clearAnnotations">Annotations to remove from an existing claim (a write is due while any is present).</param>
    public static async Task ApplyAsync(
        ChildWriter<V1PersistentVolumeClaim> claims,
        V1PersistentVolumeClaim desired,
        Action<V1PersistentVolumeClaim>? verifyExisting,
        IReadOnlyList<string> clearAnnotations,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(clearAnnotations);
        var ns = desired.Metadata.NamespaceProperty;
        var existing = claims.Cache.Get(ns, desired.Metadata.Name);
        if (existing is null)
        {
            try
            {
                SpecHash.Stamp(desired);
                await claims.Client.CreateAsync(desired, cancellationToken);
                return;
            }
            catch (ConflictException ex) when (ex.IsAlreadyExists)
            {
                existing = await claims.Client.GetAsync(ns, desired.Metadata.Name, cancellationToken);
                if (existing is null)
                {
                    throw;
                }
            }
        }

        verifyExisting?.Invoke(existing);
        var want = desired.Spec.Resources.Requests["storage"];
        var have = existing.Spec?.Resources?.Requests?.Lookup("storage");
        var labelsDiffer = desired.Metadata.Labels.Any(l => existing.Metadata.Labels?.Lookup(l.Key) != l.Value);
        var grow = have is null || want.ToDecimal() > have.ToDecimal();
        var stale = clearAnnotations.Any(a => existing.Metadata.Annotations?.ContainsKey(a) == true);
        if (!labelsDiffer && !grow && !stale)
        {
            return;
        }

        var metadata = clearAnnotations.Count == 0
            ? (object)new { labels = desired.Metadata.Labels }
            : new { labels = desired.Metadata.Labels, annotations = clearAnnotations.ToDictionary(a => a, _ => (string?)null) };
        object patch = grow
            ? new { metadata, spec = new { resources = new { requests = new Dictionary<string, string> { ["storage"] = want.ToString() } } } }
            : new { metadata };
        await claims.Client.PatchAsync(ns, desired.Metadata.Name, patch, cancellationToken);
    }
}
