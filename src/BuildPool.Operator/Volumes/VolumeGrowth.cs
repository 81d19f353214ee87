using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using k8s.Models;

namespace BuildPool.Operator.Volumes;

/// <summary>
/// Pure: auto-grow. When usage after pruning stays above the threshold, the claim expands by the
/// step up to the maximum; when it cannot, the volume reports full and says why.
/// </summary>
/// <param name="CapacityText">The claim's requested storage as written; null when unknown.</param>
/// <param name="Capacity">The same in bytes; 0 when unknown (the rule then never fires).</param>
/// <param name="Policy">spec.cache.autoGrow of the pool, or null.</param>
public sealed record VolumeGrowth(string? CapacityText, long Capacity, AutoGrowPolicy? Policy)
{
    private static readonly Verdict Fits = new(null, null);

    public static VolumeGrowth For(V1PersistentVolumeClaim? claim, AutoGrowPolicy? policy)
    {
        var text = claim?.Spec?.Resources?.Requests?.Lookup("storage")?.ToString();
        return text is not null && Quantity.TryParse(text, out var capacity, out _) && capacity > 0
            ? new VolumeGrowth(text, capacity, policy)
            : new VolumeGrowth(null, 0, policy);
    }

    /// <summary>What <paramref name="used"/> bytes after pruning call for.</summary>
    public Verdict Decide(long used)
    {
        if (Capacity <= 0)
        {
            return Fits;
        }

        var threshold = Policy is not null && QuantityOrPercent.TryParse(Policy.Threshold, out var t, out _) ? t.Resolve(Capacity) : Capacity;
        if (used <= threshold)
        {
            return Fits;
        }

        if (Policy is null)
        {
            return new Verdict(null, $"{Usage(used)}, and spec.cache.autoGrow is not set");
        }

        var step = QuantityOrPercent.TryParse(Policy.Step, out var s, out _) ? s.Resolve(Capacity) : 0;
        var max = Quantity.TryParse(Policy.MaxSize, out var m, out _) ? m : Capacity;
        var target = Math.Min(Capacity + Math.Max(step, 1L << 30), max);
        return target <= Capacity
            ? new Verdict(null, $"{Usage(used)}, and spec.cache.autoGrow.maxSize ({Policy.MaxSize}) is reached")
            : new Verdict(Quantity.Format(target), null);
    }

    /// <summary>Why the volume is full when its StorageClass refuses to expand it.</summary>
    public string NotExpandable(long used, string? storageClass) =>
        $"{Usage(used)}, and StorageClass {storageClass ?? "(default)"} does not allow volume expansion";

    private string Usage(long used) => $"usage {Quantity.FormatApproximate(used)} of {CapacityText} after pruning";

    /// <param name="ExpandTo">The size to expand the claim to (a quantity), or null.</param>
    /// <param name="Full">Why the volume is full and cannot grow, or null.</param>
    public sealed record Verdict(string? ExpandTo, string? Full);
}
