using System.Diagnostics;
using System.Globalization;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;
using k8s.Models;
using Xunit.Abstractions;

namespace BuildPool.Operator.Tests.Reliability;

/// <summary>
/// The operator is killed at random points — while three pools (Retain and Delete) converge, and
/// again while a Retain and a Delete pool are being deleted — and a fresh instance takes over.
/// A kill lands on the n-th write of the instance (n drawn from a seeded Random), and that write is
/// either lost or applied with its answer lost, so every gap between two writes of a reconcile
/// gets hit over enough runs. Nothing the dead instance did in memory survives; only the cluster does.
/// </summary>
public sealed class OperatorKillTests(ITestOutputHelper output)
{
    private const string Ns = "default";

    /// <summary>Set to rerun one chaos run: BUILDPOOL_CHAOS_SEED=1234 make chaos.</summary>
    private const string SeedVariable = "BUILDPOOL_CHAOS_SEED";

    [Fact]
    public Task An_operator_killed_at_ten_random_points_converges_with_nothing_duplicated_orphaned_or_lost() =>
        RunAsync(runs: 10, firstSeed: 1000, maxKillsWhileConverging: 3);

    [Fact]
    [Trait("Category", "Chaos")]
    public Task An_operator_killed_at_a_hundred_random_points_converges_with_nothing_duplicated_orphaned_or_lost()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next(1, 1_000_000);
        return RunAsync(runs: Environment.GetEnvironmentVariable(SeedVariable) is null ? 100 : 1, firstSeed: seed, maxKillsWhileConverging: 3);
    }

    private async Task RunAsync(int runs, int firstSeed, int maxKillsWhileConverging)
    {
        var summary = new ChaosSummary("operator kills");
        output.WriteLine($"seeds {firstSeed}..{firstSeed + runs - 1} ({SeedVariable}=<seed> reruns one)");
        for (var run = 0; run < runs; run++)
        {
            var seed = firstSeed + run;
            var clock = Stopwatch.StartNew();
            try
            {
                await KillRunAsync(seed, maxKillsWhileConverging, summary);
            }
            catch (Exception e)
            {
                summary.WriteTo(output);
                throw new InvalidOperationException($"run {run} failed; rerun it with {SeedVariable}={seed}: {e.Message}", e);
            }

            summary.Runs++;
            output.WriteLine($"seed {seed}: {clock.Elapsed.TotalSeconds:F1}s");
        }

        summary.WriteTo(output);
        Assert.Empty(summary.Violations);
    }

    private async Task KillRunAsync(int seed, int maxKillsWhileConverging, ChaosSummary summary)
    {
        var random = new Random(seed);
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var log = new ApiLog();
        var safety = new DataSafetyChecker(h.Kubernetes);
        var keepVolumes = random.Next(1, 3);
        var dropVolumes = random.Next(1, 3);
        var keep = Pool("keep", keepVolumes, warm: random.Next(0, keepVolumes + 1), ReclaimPolicy.Retain);
        var drop = Pool("drop", dropVolumes, warm: random.Next(1, dropVolumes + 1), ReclaimPolicy.Delete);
        var solo = Pool("solo", volumes: 1, warm: 1, ReclaimPolicy.Retain);
        BuilderPool[] pools = [keep, drop, solo];
        foreach (var pool in pools)
        {
            await h.Pools.CreateAsync(pool);
        }

        await using var kubelet = Kubelet.Start(h, Ns, safety);
        var generation = 0;
        OperatorInstance Next() => OperatorInstance.Start(h, $"op{++generation}", log, safety);

        // Killed while converging: about 25 writes per pool of two volumes, so most kills land mid-way.
        var kills = random.Next(1, maxKillsWhileConverging + 1);
        for (var k = 0; k < kills; k++)
        {
            var doomed = Next();
            doomed.Kill.ArmAfterWrites(random.Next(1, 70), applyFatalWrite: random.Next(2) == 0);
            await KilledOrConvergedAsync(h, doomed, pools, []);
            await doomed.KillAsync("converged before its kill point; killed after convergence");
            output.WriteLine($"  seed {seed}: {doomed.Name} died at {doomed.Kill.FatalWrite}");
            await doomed.DisposeAsync();
        }

        var survivor = Next();
        await Convergence.WaitAsync(h.Kubernetes, Ns, pools, running: survivor);
        var keepClaims = Enumerable.Range(0, keepVolumes).Select(i => ResourceNames.StateClaim(ResourceNames.HashedVolume("keep", i))).ToList();
        var keepUids = keepClaims.ToDictionary(c => c, c => safety.FirstUid(Ns, c));

        // Killed while a Retain and a Delete pool are being deleted (drain, claim, finalizer).
        survivor.Kill.ArmAfterWrites(random.Next(1, 6 * (keepVolumes + dropVolumes)), applyFatalWrite: random.Next(2) == 0);
        await h.Pools.DeleteAsync(Ns, "keep");
        await h.Pools.DeleteAsync(Ns, "drop");
        await KilledOrConvergedAsync(h, survivor, [solo], keepClaims);
        await survivor.KillAsync("finished the deletions before its kill point; killed after");
        output.WriteLine($"  seed {seed}: {survivor.Name} died at {survivor.Kill.FatalWrite}");
        await survivor.DisposeAsync();

        await using (var last = Next())
        {
            await Convergence.WaitAsync(h.Kubernetes, Ns, [solo], keepClaims, running: last);
            foreach (var name in keepClaims)
            {
                var claim = await h.Claims.GetAsync(Ns, name);
                Assert.True(claim is not null, $"the Retain claim {name} is gone");
                Assert.Equal(keepUids[name], claim!.Metadata.Uid);
                Assert.True(claim.Metadata.Annotations?.ContainsKey(WellKnown.RetainedAnnotation) == true, $"the Retain claim {name} is not marked retained");
            }

            Assert.Empty(await h.Volumes.ListAsync(Ns, $"{WellKnown.PoolLabel}=drop"));
            Assert.Null(await new ResourceClient<V1PersistentVolumeClaim>(h.Kubernetes).GetAsync(Ns, ResourceNames.StateClaim(ResourceNames.HashedVolume("drop", 0))));
            var violations = await safety.FinalCheckAsync(Ns);
            summary.Violations.AddRange(violations.Select(v => $"seed {seed}: {v}"));
        }

        foreach (var orphan in kubelet.CollectedOrphans)
        {
            output.WriteLine($"  seed {seed}: created for an owner already gone, collected: {orphan}");
        }

        // A child recreated for a volume that is gone deserves its story: every write on that volume's objects.
        var traced = kubelet.CollectedOrphans.Where(o => o.Contains("owner CacheVolume", StringComparison.Ordinal))
            .Select(o => o.Split(' ')[1]).Select(n => n[..n.LastIndexOf('-')]).Distinct(StringComparer.Ordinal);
        foreach (var volume in traced)
        {
            foreach (var call in log.Calls.Where(c => c.IsReconcileWrite && c.Name?.StartsWith(volume, StringComparison.Ordinal) == true))
            {
                output.WriteLine($"    {call}");
            }
        }

        summary.OrphansCollected += kubelet.CollectedOrphans.Count;
        summary.AddFaults("operator kills", generation - 1);
        summary.InvariantChecks += safety.Checks;
    }

    private static async Task KilledOrConvergedAsync(OperatorHarness h, OperatorInstance instance, IReadOnlyCollection<BuilderPool> pools, IEnumerable<string> retained)
    {
        var claims = retained.ToList();
        await BuildPool.TestDoubles.Eventually.WaitAsync(async () =>
        {
            await instance.ThrowIfFailedAsync();
            return instance.Kill.IsDead || (await Convergence.ProblemsAsync(h.Kubernetes, Ns, pools, claims)).Count == 0;
        }, done => done, $"{instance.Name} to die or converge", TimeSpan.FromSeconds(60));
    }

    private static BuilderPool Pool(string name, int volumes, int warm, ReclaimPolicy reclaim) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = volumes },
            Scaling = new ScalingSpec { WarmBuilders = warm },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" }, ReclaimPolicy = reclaim },
        },
    };
}
