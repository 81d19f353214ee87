using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Rendering;

/// <summary>
/// The GC limits of one cache volume in bytes, resolved from the pool's <see cref="GcPolicy"/>
/// against the volume size. The rendered <c>buildkitd.toml</c> and the operator's targeted
/// prunes use these same numbers, so the daemon and the operator never disagree about when the
/// cache is too big.
/// </summary>
/// <param name="VolumeSizeBytes">Size of the volume the limits were taken of.</param>
/// <param name="ReservedSpaceBytes">Cache GC never frees below; at most <paramref name="MaxUsedSpaceBytes"/>.</param>
/// <param name="MaxUsedSpaceBytes">Most space the cache may use; at most the volume size minus <paramref name="MinFreeSpaceBytes"/>.</param>
/// <param name="MinFreeSpaceBytes">Free space GC keeps on the volume; at most the volume size.</param>
/// <param name="KeepDuration">Local sources, cache mounts and git checkouts unused this long go first.</param>
/// <param name="CacheMountKeepDuration">
/// The age after which the daemon's own GC frees unused cache mounts: <paramref name="KeepDuration"/>,
/// or the longest keepDuration of a cache mount rule when that is longer.
/// </param>
/// <param name="Adjustments">How the limits were changed to fit together, as sentences for an Event or a condition message.</param>
public sealed record GcBudget(
    long VolumeSizeBytes,
    long ReservedSpaceBytes,
    long MaxUsedSpaceBytes,
    long MinFreeSpaceBytes,
    TimeSpan KeepDuration,
    TimeSpan CacheMountKeepDuration,
    IReadOnlyList<string> Adjustments)
{
    /// <summary>BuildKit's default age for local sources, cache mounts and git checkouts.</summary>
    public static readonly TimeSpan DefaultKeepDuration = TimeSpan.FromHours(48);

    /// <summary>BuildKit's default age after which any record may go once the cache is over its limit.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromDays(60);

    /// <summary>
    /// Resolves <paramref name="gc"/> against a volume of <paramref name="volumeSizeBytes"/>, or
    /// explains (naming the field) why the policy cannot be read.
    /// </summary>
    /// <remarks>
    /// Percentages round down. The limits are then made consistent, in this order:
    /// <list type="number">
    /// <item>minFreeSpace is at most the volume size.</item>
    /// <item>
    /// maxUsedSpace is at most size − minFreeSpace. BuildKit 0.17 applies minFreeSpace only
    /// against the free space it measures during a GC run, and BuildKit before 0.17 has no
    /// minFreeSpace at all; capping maxUsedSpace makes every version start collecting before the
    /// cache eats into the space that should stay free. The volume holds little besides the
    /// cache, so size − used is close to the free space BuildKit sees.
    /// </item>
    /// <item>
    /// reservedSpace is at most maxUsedSpace. BuildKit lets reservedSpace win over both other
    /// limits (it never collects below it), so a larger reservedSpace would silently disable
    /// maxUsedSpace and minFreeSpace and let the cache fill the volume.
    /// </item>
    /// </list>
    /// </remarks>
    public static bool TryCompute(
        long volumeSizeBytes,
        GcPolicy gc,
        IReadOnlyList<CacheMountRule>? cacheMounts,
        [NotNullWhen(true)] out GcBudget? budget,
        [NotNullWhen(false)] out string? reason)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(volumeSizeBytes);
        ArgumentNullException.ThrowIfNull(gc);
        budget = null;
        const string Field = "spec.cache.gc.";
        if (!QuantityOrPercent.TryParse(gc.ReservedSpace, out var reservedSpec, out reason))
        {
            reason = Field + "reservedSpace: " + reason;
            return false;
        }

        if (!QuantityOrPercent.TryParse(gc.MaxUsedSpace, out var maxUsedSpec, out reason))
        {
            reason = Field + "maxUsedSpace: " + reason;
            return false;
        }

        if (!QuantityOrPercent.TryParse(gc.MinFreeSpace, out var minFreeSpec, out reason))
        {
            reason = Field + "minFreeSpace: " + reason;
            return false;
        }

        var keep = DefaultKeepDuration;
        if (gc.KeepDuration is not null && !GoDuration.TryParse(gc.KeepDuration, out keep, out reason))
        {
            reason = Field + "keepDuration: " + reason;
            return false;
        }

        var mountKeep = keep;
        for (var i = 0; i < (cacheMounts?.Count ?? 0); i++)
        {
            var rule = cacheMounts![i];
            if (rule.KeepDuration is null)
            {
                continue;
            }

            if (!GoDuration.TryParse(rule.KeepDuration, out var ruleKeep, out reason))
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"spec.cache.cacheMounts[{i}].keepDuration: {reason}");
                return false;
            }

            mountKeep = ruleKeep > mountKeep ? ruleKeep : mountKeep;
        }

        var adjustments = new List<string>();
        var size = Quantity.Format(volumeSizeBytes);

        var minFree = minFreeSpec.Resolve(volumeSizeBytes);
        if (minFree > volumeSizeBytes)
        {
            adjustments.Add($"minFreeSpace {minFreeSpec} is more than the {size} volume; using {size}.");
            minFree = volumeSizeBytes;
        }

        var maxUsed = maxUsedSpec.Resolve(volumeSizeBytes);
        if (maxUsed > volumeSizeBytes - minFree)
        {
            var capped = volumeSizeBytes - minFree;
            adjustments.Add($"maxUsedSpace {maxUsedSpec} lowered to {Describe(capped)} so that minFreeSpace {minFreeSpec} stays free on the {size} volume.");
            maxUsed = capped;
        }

        var reserved = reservedSpec.Resolve(volumeSizeBytes);
        if (reserved > maxUsed)
        {
            adjustments.Add($"reservedSpace {reservedSpec} lowered to {Describe(maxUsed)} so that it does not exceed maxUsedSpace.");
            reserved = maxUsed;
        }

        budget = new GcBudget(volumeSizeBytes, reserved, maxUsed, minFree, keep, mountKeep, adjustments);
        reason = null;
        return true;
    }

    /// <summary>
    /// How much cache BuildKit 0.17+ keeps in a GC run, given the cache size and the free space
    /// on the volume: maxUsedSpace, lowered further when free space is below minFreeSpace, but
    /// never below reservedSpace. This mirrors BuildKit's own calculation so the operator can
    /// predict (and pre-empt with a targeted prune) what the daemon will do.
    /// </summary>
    public long KeepBytes(long usedBytes, long freeBytes)
    {
        var keep = MaxUsedSpaceBytes;
        var shortfall = MinFreeSpaceBytes - freeBytes;
        if (shortfall > 0)
        {
            keep = Math.Min(keep, usedBytes - shortfall);
        }

        return Math.Max(keep, ReservedSpaceBytes);
    }

    // Exact where a suffix is exact, with a readable approximation where it is not.
    private static string Describe(long bytes)
    {
        var exact = Quantity.Format(bytes);
        var approximate = Quantity.FormatApproximate(bytes);
        return exact == approximate ? exact : $"{exact} bytes ({approximate})";
    }

    /// <summary>How many bytes a GC run would free now; zero when the cache is within its budget.</summary>
    public long BytesToFree(long usedBytes, long freeBytes) => Math.Max(0, usedBytes - KeepBytes(usedBytes, freeBytes));
}
