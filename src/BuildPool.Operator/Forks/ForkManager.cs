using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Status;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BuildPool.Operator.Forks;

/// <summary>
/// The fork steps of a CacheVolume's reconcile: a base volume creates the forks the gateway asks
/// for (within spec.cache.forks), and a fork deletes itself when it is done (<see cref="ForkRetirement"/>).
/// Deletion goes through the volume finalizer, so a fork's running builds finish first and its
/// claim goes too.
/// </summary>
public sealed partial class ForkManager(OperatorCaches caches, ForkLedger ledger, EventRecorder events, ILogger logger)
{
    public const string SeededCondition = "Seeded";

    /// <summary>On a StorageClass: "true" or "false", whether its driver can clone volumes; wins over the provisioner-name rule.</summary>
    public const string CloningAnnotation = "buildpool.dev/volume-cloning";

    /// <summary>Creates the forks <paramref name="baseVolume"/> should have; returns how many it has now, for its <c>status.forks</c>.</summary>
    public async Task<int?> EnsureForksAsync(CacheVolume baseVolume, VolumeSignals signals, BuilderPool pool, TimeSpan idleTimeout, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(baseVolume);
        ArgumentNullException.ThrowIfNull(pool);
        var ns = baseVolume.Metadata.NamespaceProperty;
        var poolKey = $"{ns}/{pool.Metadata.Name}";
        using var held = await ledger.LockAsync(poolKey, cancellationToken);
        var cached = caches.VolumesOf(ns, pool.Metadata.Name)
            .Where(ForkPlanner.IsFork)
            .Select(v => (v.Metadata.Name, ForkPlanner.BaseOf(v)!));
        var forks = ledger.Forks(poolKey, cached);
        var plan = ForkPlanner.Plan(baseVolume, signals, pool, forks, idleTimeout, ForkSeed.Cloned, now);
        if (plan.Create.Count > 0)
        {
            // Only now is the StorageClass worth a look: most reconciles create nothing.
            var seed = await SeedAsync(baseVolume, pool, cancellationToken);
            plan = ForkPlanner.Plan(baseVolume, signals, pool, forks, idleTimeout, seed, now);
        }

        foreach (var fork in plan.Create)
        {
            try
            {
                await caches.VolumeWriter.Client.CreateAsync(fork, cancellationToken);
                Log.Created(logger, fork.Metadata.Name, baseVolume.Metadata.Name, ForkPlanner.IsolatedFor(fork) is null ? "overflow" : "isolated");
                await events.RecordAsync(baseVolume, "Normal", "Forked",
                    $"created {(ForkPlanner.IsolatedFor(fork) is null ? "overflow" : "isolated")} fork {fork.Metadata.Name}{(fork.Spec.CloneFrom is null ? " with an empty cache (no clone)" : " as a clone of this volume")}", cancellationToken);
            }
            catch (ConflictException ex) when (ex.IsAlreadyExists)
            {
                // Created by an earlier round the cache did not show yet.
            }

            ledger.Created(poolKey, fork.Metadata.Name, baseVolume.Metadata.Name);
        }

        if (plan.Refused is { } refused && plan.Create.Count == 0)
        {
            Log.Refused(logger, baseVolume.Metadata.Name, refused);
        }

        return plan.Existing + plan.Create.Count > 0 ? plan.Existing + plan.Create.Count : null;
    }

    /// <summary>Deletes a fork that is done (<see cref="ForkRetirement"/>); its finalizer lets its running builds finish.</summary>
    public async Task RetireAsync(CacheVolume fork, string why, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fork);
        Log.Retired(logger, fork.Metadata.Name, why);
        await events.RecordAsync(fork, "Normal", "ForkRetired", $"deleting the fork ({why}); forks never write back", cancellationToken);
        await caches.VolumeWriter.DeleteAsync(fork, cancellationToken);
    }

    private async Task<ForkSeed> SeedAsync(CacheVolume baseVolume, BuilderPool pool, CancellationToken cancellationToken)
    {
        var className = baseVolume.Spec.StorageClassName ?? pool.Spec.Cache.Volume.StorageClassName;
        V1StorageClass? storageClass;
        if (className is { Length: > 0 })
        {
            storageClass = await caches.StorageClasses.GetAsync(null, className, cancellationToken);
            if (storageClass is null)
            {
                return new ForkSeed(false, $"StorageClass {className} not found");
            }
        }
        else
        {
            var all = await caches.StorageClasses.ListAsync(cancellationToken: cancellationToken);
            storageClass = all.FirstOrDefault(c => c.Metadata.Annotations?.Lookup("storageclass.kubernetes.io/is-default-class") == "true");
            if (storageClass is null)
            {
                return new ForkSeed(false, "no StorageClass is named and none is the default");
            }
        }

        return CanClone(storageClass);
    }

    /// <summary>
    /// Whether a StorageClass can clone: its <see cref="CloningAnnotation"/> when set; otherwise
    /// yes when its provisioner is a CSI driver by name (contains "csi"). In-tree and hostPath-like
    /// provisioners cannot clone, and asking them would leave the fork's claim pending forever.
    /// </summary>
    public static ForkSeed CanClone(V1StorageClass storageClass)
    {
        ArgumentNullException.ThrowIfNull(storageClass);
        var name = storageClass.Metadata.Name;
        if (storageClass.Metadata.Annotations?.Lookup(CloningAnnotation) is { } flag)
        {
            return string.Equals(flag, "true", StringComparison.OrdinalIgnoreCase)
                ? ForkSeed.Cloned
                : new ForkSeed(false, $"StorageClass {name} says {CloningAnnotation}: {flag}");
        }

        return storageClass.Provisioner?.Contains("csi", StringComparison.OrdinalIgnoreCase) == true
            ? ForkSeed.Cloned
            : new ForkSeed(false, $"StorageClass {name} (provisioner {storageClass.Provisioner}) is not a CSI driver that can clone; annotate it {CloningAnnotation}: \"true\" if it can");
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Created {Kind} fork {Fork} of {Base}")]
        public static partial void Created(ILogger logger, string fork, string @base, string kind);

        [LoggerMessage(Level = LogLevel.Information, Message = "Not forking {Base} further: {Why}")]
        public static partial void Refused(ILogger logger, string @base, string why);

        [LoggerMessage(Level = LogLevel.Information, Message = "Retiring fork {Fork}: {Why}")]
        public static partial void Retired(ILogger logger, string fork, string why);
    }
}
