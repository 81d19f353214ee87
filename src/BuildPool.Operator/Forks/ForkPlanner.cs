using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Forks;

/// <summary>
/// Pure: which forks a base volume gets. The gateway asks through the pool's signal Lease
/// (docs/lifecycle.md): forks wanted for overflow forks and one isolate signal per untrusted
/// build. Requests older than the fork idle timeout are stale and ignored. Forks per volume and
/// per pool never exceed spec.cache.forks.
/// </summary>
public static class ForkPlanner
{
    /// <summary>Annotation on a fork that cannot be a clone: why it starts empty.</summary>
    public const string EmptySeedAnnotation = "buildpool.dev/empty-seed";

    /// <summary>A fork is what the operator created as one (<see cref="CacheVolumeForks.BaseOf"/>): a label alone proves nothing.</summary>
    public static bool IsFork(CacheVolume volume) => BaseOf(volume) is not null;

    /// <summary>The base of a fork; null for any other volume, whatever its labels say.</summary>
    public static string? BaseOf(CacheVolume volume) => CacheVolumeForks.BaseOf(volume);

    public static string? IsolatedFor(CacheVolume volume) => CacheVolumeForks.IsolatedFor(volume);

    /// <summary>
    /// <paramref name="poolForks"/>: the names of every fork of the pool that exists (or was just
    /// created and is not in the cache yet), each with the base it belongs to.
    /// </summary>
    public static ForkPlan Plan(CacheVolume baseVolume, VolumeSignals signals, BuilderPool pool, IReadOnlyCollection<(string Name, string Base)> poolForks, TimeSpan idleTimeout, ForkSeed seed, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(baseVolume);
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(poolForks);
        var name = baseVolume.Metadata.Name;
        var limits = pool.Spec.Cache.Forks;
        var mine = poolForks.Where(f => f.Base == name).Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var poolCount = poolForks.Count;
        var create = new List<CacheVolume>();
        var refused = new List<string>();

        bool Room(string what)
        {
            if (mine.Count >= limits.MaxPerVolume)
            {
                refused.Add($"{what}: spec.cache.forks.maxPerVolume ({limits.MaxPerVolume}) reached");
                return false;
            }

            if (poolCount >= limits.MaxPerPool)
            {
                refused.Add($"{what}: spec.cache.forks.maxPerPool ({limits.MaxPerPool}) reached");
                return false;
            }

            return true;
        }

        // Isolated forks first: an untrusted build never falls back to a shared builder.
        foreach (var (id, askedAt) in signals.Isolated.OrderBy(a => a.Value).ThenBy(a => a.Key, StringComparer.Ordinal))
        {
            if (now - askedAt >= idleTimeout || !ResourceNames.IsValidForkId(id))
            {
                continue;
            }

            var forkName = ResourceNames.IsolatedFork(name, id);
            if (mine.Contains(forkName) || !Room($"isolated fork for build {id}"))
            {
                continue;
            }

            create.Add(Fork(baseVolume, pool, forkName, id, seed));
            mine.Add(forkName);
            poolCount++;
        }

        if (signals.ForksWanted > 0 && signals.ForksWantedAt is { } at && now - at < idleTimeout)
        {
            var wanted = signals.ForksWanted;
            var overflow = mine.Count(n => CacheVolumeForks.IsOverflowName(name, n));
            for (var index = 0; overflow < wanted && index < limits.MaxPerVolume; index++)
            {
                var forkName = ResourceNames.Fork(name, index);
                if (mine.Contains(forkName))
                {
                    continue;
                }

                if (!Room($"overflow fork {overflow + 1} of {wanted}"))
                {
                    break;
                }

                create.Add(Fork(baseVolume, pool, forkName, null, seed));
                mine.Add(forkName);
                poolCount++;
                overflow++;
            }
        }

        return new ForkPlan(create, mine.Count - create.Count, refused.Count > 0 ? string.Join("; ", refused) : null);
    }

    /// <summary>A fork: same pool, size and StorageClass as its base, its claim a clone of the base's where the class can clone.</summary>
    public static CacheVolume Fork(CacheVolume baseVolume, BuilderPool pool, string name, string? isolatedFor, ForkSeed seed)
    {
        ArgumentNullException.ThrowIfNull(baseVolume);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(seed);
        var labels = Owners.VolumeLabels(pool.Metadata.Name, name);
        labels[LifecycleAnnotations.ForkOfLabel] = baseVolume.Metadata.Name;
        if (isolatedFor is not null)
        {
            labels[LifecycleAnnotations.IsolatedForLabel] = isolatedFor;
        }

        // Owned by the base: deleting the base takes its forks along.
        var meta = Owners.ChildMeta(baseVolume, name, labels);
        if (!seed.CanClone)
        {
            meta.Annotations = new Dictionary<string, string> { [EmptySeedAnnotation] = seed.Reason ?? "the StorageClass cannot clone" };
        }

        return new CacheVolume
        {
            Metadata = meta,
            Spec = new CacheVolumeSpec
            {
                Pool = pool.Metadata.Name,
                // A fork serves builds side by side like a Shared volume; a Locked base's fork stays Locked.
                Sharing = (baseVolume.Spec.Sharing ?? pool.Spec.Cache.Sharing) == CacheSharing.Locked ? CacheSharing.Locked : CacheSharing.Shared,
                Size = baseVolume.Spec.Size ?? pool.Spec.Cache.Volume.Size,
                StorageClassName = baseVolume.Spec.StorageClassName ?? pool.Spec.Cache.Volume.StorageClassName,
                CloneFrom = seed.CanClone ? baseVolume.Metadata.Name : null,
            },
        };
    }

    /// <summary>The fork idle timeout: spec.cache.forks.idleTimeout, else the pool's spec.scaling.idleTimeout.</summary>
    public static TimeSpan IdleTimeout(BuilderPool pool, CacheVolumeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(settings);
        return pool.Spec.Cache.Forks.IdleTimeout is { } text && GoDuration.TryParse(text, out var idle, out _) ? idle : settings.IdleTimeout;
    }
}
