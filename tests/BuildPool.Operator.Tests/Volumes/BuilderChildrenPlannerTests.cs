using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Volumes;

public sealed class BuilderChildrenPlannerTests
{
    private static BuilderChildren Plan(SecurityProfile profile, bool running = true, string? cloneFrom = null)
    {
        var pool = new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "builds", Uid = "pool-uid" },
            Spec = new BuilderPoolSpec { Builder = new BuilderSpec { SecurityProfile = profile } },
        };
        var volume = new CacheVolume
        {
            Metadata = new V1ObjectMeta { Name = "ci-0", NamespaceProperty = "builds", Uid = "volume-uid" },
            Spec = new CacheVolumeSpec { Pool = "ci", CloneFrom = cloneFrom },
        };
        return BuilderChildrenPlanner.Plan(volume, pool, "# toml", running);
    }

    [Fact]
    public void Rootless_builders_run_as_uid_1000_unconfined_with_state_at_the_rootless_root()
    {
        var pod = Plan(SecurityProfile.Rootless).Builder.Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        Assert.Equal(1000, container.SecurityContext.RunAsUser);
        Assert.Equal("Unconfined", container.SecurityContext.SeccompProfile.Type);
        Assert.Equal("Unconfined", container.SecurityContext.AppArmorProfile.Type);
        Assert.Null(container.SecurityContext.Privileged);
        Assert.Null(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(1000, pod.SecurityContext.FsGroup);
        Assert.Contains(container.VolumeMounts, m => m.Name == "state" && m.MountPath == "/home/user/.local/share/buildkit");
        Assert.Contains("--oci-worker-no-process-sandbox", container.Args);
    }

    [Fact]
    public void User_namespace_builders_set_host_users_false_and_are_not_privileged()
    {
        var pod = Plan(SecurityProfile.UserNamespace).Builder.Spec.Template.Spec;
        Assert.False(pod.HostUsers);
        Assert.Null(pod.Containers[0].SecurityContext.Privileged);
        Assert.Contains(pod.Containers[0].VolumeMounts, m => m.Name == "state" && m.MountPath == "/var/lib/buildkit");
    }

    [Fact]
    public void Privileged_builders_are_privileged_with_state_at_var_lib_buildkit_and_a_process_sandbox()
    {
        var container = Plan(SecurityProfile.Privileged).Builder.Spec.Template.Spec.Containers[0];
        Assert.True(container.SecurityContext.Privileged);
        Assert.Contains(container.VolumeMounts, m => m.Name == "state" && m.MountPath == "/var/lib/buildkit");
        Assert.DoesNotContain("--oci-worker-no-process-sandbox", container.Args);
    }

    [Fact]
    public void A_builder_is_one_replica_or_none_and_always_recreated_never_rolled_side_by_side()
    {
        Assert.Equal(1, Plan(SecurityProfile.Rootless, running: true).Builder.Spec.Replicas);
        var stopped = Plan(SecurityProfile.Rootless, running: false).Builder;
        Assert.Equal(0, stopped.Spec.Replicas);
        Assert.Equal("Recreate", stopped.Spec.Strategy.Type);
    }

    [Fact]
    public void The_state_claim_has_no_owner_so_no_cascade_can_delete_a_cache()
    {
        var claim = Plan(SecurityProfile.Rootless).Claim;
        Assert.Null(claim.Metadata.OwnerReferences);
        Assert.Equal("Retain", claim.Metadata.Labels[BuilderChildrenPlanner.ReclaimPolicyLabel]);
    }

    [Fact]
    public void Clone_from_becomes_a_claim_data_source()
    {
        var source = Plan(SecurityProfile.Rootless, cloneFrom: "ci-1").Claim.Spec.DataSource;
        Assert.Equal(("PersistentVolumeClaim", "ci-1-state"), (source.Kind, source.Name));
    }

    [Fact]
    public void A_config_change_changes_the_pod_template_hash_so_the_builder_restarts()
    {
        var pool = new BuilderPool { Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "b" } };
        var volume = new CacheVolume { Metadata = new V1ObjectMeta { Name = "ci-0", NamespaceProperty = "b" }, Spec = new CacheVolumeSpec { Pool = "ci" } };
        Assert.NotEqual(
            BuilderChildrenPlanner.Plan(volume, pool, "a", true).PodTemplateHash,
            BuilderChildrenPlanner.Plan(volume, pool, "b", true).PodTemplateHash);
        Assert.Equal(
            BuilderChildrenPlanner.Plan(volume, pool, "a", true).PodTemplateHash,
            BuilderChildrenPlanner.Plan(volume, pool, "a", false).PodTemplateHash);
    }

    [Fact]
    public void An_isolated_forks_builder_pod_carries_its_build_id_for_network_policies_and_other_builders_do_not()
    {
        var pool = new BuilderPool { Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "b" } };
        CacheVolume Volume(string name, Dictionary<string, string>? labels) =>
            new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "b", Labels = labels }, Spec = new CacheVolumeSpec { Pool = "ci" } };
        var isolated = Volume("ci-0-ib1c2d3e4f5", new() { [LifecycleAnnotations.ForkOfLabel] = "ci-0", [LifecycleAnnotations.IsolatedForLabel] = "b1c2d3e4f5" });
        var overflow = Volume("ci-0-f0", new() { [LifecycleAnnotations.ForkOfLabel] = "ci-0" });

        IDictionary<string, string> PodLabels(CacheVolume v) => BuilderChildrenPlanner.Plan(v, pool, "", true).Builder.Spec.Template.Metadata.Labels;

        Assert.Equal("b1c2d3e4f5", PodLabels(isolated)[LifecycleAnnotations.IsolatedForLabel]);
        Assert.False(PodLabels(overflow).ContainsKey(LifecycleAnnotations.IsolatedForLabel));
        Assert.False(PodLabels(Volume("ci-0", null)).ContainsKey(LifecycleAnnotations.IsolatedForLabel));
    }
}
