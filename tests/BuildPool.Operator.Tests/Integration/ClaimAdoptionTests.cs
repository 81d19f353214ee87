using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// Attacks on claim adoption: a claim that only has the right name is not BuildPool's to take,
/// and a claim once retained is never deleted because a Delete pool picked it up.
/// </summary>
public sealed class ClaimAdoptionTests
{
    private const string Ns = "default";

    private static BuilderPool Pool(string name, ReclaimPolicy reclaim) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 },
            Scaling = new ScalingSpec { WarmBuilders = 1 },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" }, ReclaimPolicy = reclaim },
        },
    };

    private static V1PersistentVolumeClaim ForeignClaim(string name, IDictionary<string, string>? labels) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns, Labels = labels, Annotations = new Dictionary<string, string> { ["team"] = "data" } },
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = ["ReadWriteOnce"],
            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("5Gi") } },
        },
    };

    [Theory]
    [InlineData("no labels")]
    [InlineData("another pool's labels")]
    public async Task A_claim_named_like_a_volume_without_its_labels_is_left_alone_and_the_volume_is_stalled_naming_it(string labelled)
    {
        await using var h = await OperatorHarness.StartAsync();
        var labels = labelled == "no labels" ? null : new Dictionary<string, string>
        {
            [WellKnown.ManagedByLabel] = WellKnown.ManagedByValue,
            [WellKnown.PoolLabel] = "other",
            [WellKnown.VolumeLabel] = "ci-0",
            [BuilderChildrenPlanner.ReclaimPolicyLabel] = nameof(ReclaimPolicy.Retain),
        };
        var foreign = await h.Claims.CreateAsync(ForeignClaim("ci-0-state", labels));

        await h.Pools.CreateAsync(Pool("ci", ReclaimPolicy.Delete));

        var stalled = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "ci-0"),
            v => v?.Status.Conditions.Any(c => c.Type == "Stalled" && c.Status == "True") == true, "the volume to be Stalled");
        var condition = stalled!.Status.Conditions.Single(c => c.Type == "Stalled");
        Assert.Equal("ClaimConflict", condition.Reason);
        Assert.Contains($"PersistentVolumeClaim {Ns}/ci-0-state", condition.Message, StringComparison.Ordinal);
        var events = await h.WaitAsync(() => new ResourceClient<Corev1Event>(h.Kubernetes).ListAsync(Ns),
            e => e.Any(x => x.InvolvedObject.Name == "ci-0" && x.Reason == "ClaimConflict"), "a ClaimConflict event on the volume");
        Assert.Equal("Warning", events.First(x => x.Reason == "ClaimConflict").Type);
        // No builder mounts someone else's data.
        Assert.Null(await h.Deployments.GetAsync(Ns, "ci-0-builder"));

        // Deleting the pool settles only what is BuildPool's: the claim stays exactly as it was.
        await h.Pools.DeleteAsync(Ns, "ci");
        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 0, "the cache volume to be finalized");
        var after = await h.Claims.GetAsync(Ns, "ci-0-state");
        Assert.NotNull(after);
        Assert.Equal(foreign.Metadata.ResourceVersion, after!.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task A_retained_claim_adopted_by_a_delete_pool_of_the_same_name_survives_that_pool()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.CreateReadyPoolAsync(Pool("ci", ReclaimPolicy.Retain));
        await h.Pools.DeleteAsync(Ns, "ci");
        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 0, "the Retain pool's volume to be finalized");
        var retained = await h.WaitAsync(() => h.Claims.GetAsync(Ns, "ci-0-state"),
            c => c?.Metadata.Annotations?.ContainsKey(WellKnown.RetainedAnnotation) == true, "the claim to be marked retained");

        // A pool of the same name, now with reclaimPolicy Delete, finds the cache and uses it...
        await h.CreateReadyPoolAsync(Pool("ci", ReclaimPolicy.Delete));
        var adopted = await h.Claims.GetAsync(Ns, "ci-0-state");
        Assert.Equal(retained!.Metadata.Uid, adopted!.Metadata.Uid);
        Assert.Equal(nameof(ReclaimPolicy.Retain), adopted.Metadata.Labels[BuilderChildrenPlanner.ReclaimPolicyLabel]);

        // ...but deleting it does not take the retained data with it.
        await h.Pools.DeleteAsync(Ns, "ci");
        await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 0, "the Delete pool's volume to be finalized");
        var kept = await h.Claims.GetAsync(Ns, "ci-0-state");
        Assert.Equal(retained.Metadata.Uid, kept?.Metadata.Uid);
    }
}
