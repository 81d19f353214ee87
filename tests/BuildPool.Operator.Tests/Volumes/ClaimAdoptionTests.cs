using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Children;
using BuildPool.Operator.Naming;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Volumes;

public sealed class ClaimAdoptionTests
{
    private static readonly CacheVolume Volume = new() { Metadata = new V1ObjectMeta { Name = "ci-0", NamespaceProperty = "default" }, Spec = new CacheVolumeSpec { Pool = "ci" } };

    private static V1PersistentVolumeClaim Claim(IDictionary<string, string>? labels, bool retainedMark = false) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "ci-0-state",
            NamespaceProperty = "default",
            Labels = labels,
            Annotations = retainedMark ? new Dictionary<string, string> { [WellKnown.RetainedAnnotation] = "2030-01-01T00:00:00Z" } : null,
        },
    };

    private static Dictionary<string, string> Ours(string? policy = null)
    {
        var labels = Owners.VolumeLabels("ci", "ci-0");
        if (policy is not null)
        {
            labels[BuilderChildrenPlanner.ReclaimPolicyLabel] = policy;
        }

        return labels;
    }

    public static TheoryData<string, Dictionary<string, string>?, string?> Cases() => new()
    {
        { "a claim with the volume's labels is adopted", Ours(), null },
        { "a claim with no labels is refused", null, "app.kubernetes.io/managed-by=buildpool, buildpool.dev/pool=ci, buildpool.dev/volume=ci-0" },
        { "another pool's claim of the same name is refused", new Dictionary<string, string>(Ours()) { [WellKnown.PoolLabel] = "other" }, "buildpool.dev/pool=ci" },
        { "a claim labelled for another volume is refused", new Dictionary<string, string>(Ours()) { [WellKnown.VolumeLabel] = "ci-1" }, "buildpool.dev/volume=ci-0" },
        { "a claim not managed by BuildPool is refused", new Dictionary<string, string>(Ours()) { [WellKnown.ManagedByLabel] = "someone" }, "app.kubernetes.io/managed-by=buildpool" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_claim_is_adopted_only_with_BuildPools_labels_for_the_volume(string name, Dictionary<string, string>? labels, string? lacking)
    {
        var conflict = ClaimAdoption.Conflict(Claim(labels), Volume);

        if (lacking is null)
        {
            Assert.True(conflict is null, name);
        }
        else
        {
            Assert.NotNull(conflict);
            Assert.StartsWith("PersistentVolumeClaim default/ci-0-state exists but is not this volume's", conflict, StringComparison.Ordinal);
            Assert.Contains($"(it lacks {lacking})", conflict, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Retain", false, "Delete", "Retain")]
    [InlineData("Delete", true, "Delete", "Retain")]
    [InlineData("Delete", false, "Delete", "Delete")]
    [InlineData("Delete", false, "Retain", "Retain")]
    public void Retain_is_sticky_whatever_the_adopting_pool_says(string had, bool retainedMark, string desired, string kept)
    {
        var want = new V1PersistentVolumeClaim { Metadata = new V1ObjectMeta { Labels = Ours(desired) } };

        ClaimAdoption.Verify(Claim(Ours(had), retainedMark), want, Volume);

        Assert.Equal(kept, want.Metadata.Labels[BuilderChildrenPlanner.ReclaimPolicyLabel]);
    }

    [Fact]
    public void Verifying_a_foreign_claim_throws_a_conflict_naming_it()
    {
        var ex = Assert.Throws<ChildConflictException>(() => ClaimAdoption.Verify(Claim(null), new V1PersistentVolumeClaim { Metadata = new V1ObjectMeta { Labels = Ours("Delete") } }, Volume));

        Assert.Contains("default/ci-0-state", ex.Message, StringComparison.Ordinal);
    }
}
