using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Registry;
using BuildPool.Operator.Status;
using BuildPool.Operator.Tests.Rendering;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>
/// <see cref="RegistryCacheTargetStatusCalculator"/> as a table: each case's status is in
/// Golden/status/registrycachetarget/&lt;case&gt;.yaml.
/// </summary>
public sealed class RegistryCacheTargetStatusCalculatorTests
{
    private const string Folder = "status/registrycachetarget";
    private static readonly DateTime Now = new(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private static readonly DateTime Earlier = Now.AddHours(-6);

    private sealed record Case(RegistryCacheTarget Target, RegistryCheck Check);

    private static RegistryCacheTarget Target(bool managed = false, RegistryCacheTargetStatus? status = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "cache", NamespaceProperty = "ci", Generation = 5 },
        Spec = new RegistryCacheTargetSpec
        {
            Ref = managed ? "cache/app:{key}" : "registry.example.test/cache/app:{key}",
            Mode = CacheExportMode.Max,
            Managed = managed,
            Retention = new CacheRetentionPolicy { MaxTags = 20 },
        },
        Status = status ?? new RegistryCacheTargetStatus(),
    };

    private static RegistryCacheTargetStatus Measured() => new()
    {
        ObservedGeneration = 4,
        Reachable = true,
        TagCount = 12,
        Bytes = 3_000_000_000,
        LastGC = Earlier,
        FreedBytes = 400_000_000,
        Conditions =
        [
            new V1Condition { Type = Conditions.Ready, Status = "True", Reason = "RetentionApplied", Message = "12 tags, 2.8Gi", LastTransitionTime = Earlier, ObservedGeneration = 4 },
            new V1Condition { Type = Conditions.Reconciling, Status = "False", Reason = "RetentionApplied", Message = "12 tags, 2.8Gi", LastTransitionTime = Earlier, ObservedGeneration = 4 },
            new V1Condition { Type = Conditions.Stalled, Status = "False", Reason = "RetentionApplied", Message = "12 tags, 2.8Gi", LastTransitionTime = Earlier, ObservedGeneration = 4 },
        ],
    };

    private static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["A_first_pass_that_applied_retention_is_ready_with_counts_and_the_buildx_flags"] = new(
            Target(),
            new RegistryCheck(Outcome.Ready("RetentionApplied", "9 tags, 1.2Gi; deleted 3 tags"), Reachable: true, TagCount: 9, Bytes: 1_300_000_000, LastGC: Now, FreedBytes: 200_000_000)),
        ["A_pass_that_measured_nothing_keeps_the_last_counts_and_the_ready_transition_time"] = new(
            Target(status: Measured()),
            new RegistryCheck(Outcome.Ready("RetentionApplied", "12 tags, 2.8Gi"), Reachable: true)),
        ["An_unreachable_registry_is_stalled_and_still_shows_what_was_last_measured"] = new(
            Target(status: Measured()),
            new RegistryCheck(Outcome.Stalled("Unreachable", "registry.example.test: connection refused"), Reachable: false)),
        ["A_spec_that_stopped_being_valid_is_stalled_without_numbers_or_flags"] = new(
            Target(status: Measured()),
            new RegistryCheck(Outcome.Stalled("InvalidSpec", "spec.ref: must contain {key}"), Reachable: null, SpecValid: false)),
        ["A_managed_target_publishes_flags_for_its_in_cluster_registry_without_registry_insecure"] = new(
            Target(managed: true),
            new RegistryCheck(Outcome.Ready("RetentionApplied", "0 tags"), Reachable: true, TagCount: 0, Bytes: 0)),
        ["A_transient_registry_error_is_reconciling_with_the_registry_still_reachable"] = new(
            Target(status: Measured()),
            new RegistryCheck(Outcome.Progressing("RegistryError", "HTTP 503 from registry.example.test"), Reachable: true)),
    };

    public static TheoryData<string> Names => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void Status_matches_the_golden_file(string name)
    {
        var c = Cases[name];
        var status = RegistryCacheTargetStatusCalculator.Compute(c.Target, c.Check, Now);
        GoldenFiles.AssertMatches(Folder, name + ".yaml", GoldenYaml.Of(("status", status)));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_same_inputs_give_the_same_status_and_leave_the_target_untouched(string name)
    {
        var c = Cases[name];
        var before = KubernetesJson.Serialize(c.Target);

        var first = RegistryCacheTargetStatusCalculator.Compute(c.Target, c.Check, Now);
        var second = RegistryCacheTargetStatusCalculator.Compute(c.Target, c.Check, Now);

        Assert.Equal(KubernetesJson.Serialize(first), KubernetesJson.Serialize(second));
        Assert.Equal(before, KubernetesJson.Serialize(c.Target));
    }

    [Fact]
    public void Every_golden_file_belongs_to_a_case()
    {
        GoldenFiles.AssertEveryFileHasACase(Folder, ".yaml", Cases.Keys);
    }
}
