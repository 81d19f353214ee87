using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Packaging.Tests;

public sealed class KustomizeRenderTests
{
    [KubectlFact]
    public async Task Every_object_of_config_default_reads_into_its_Kubernetes_model_without_unknown_fields()
    {
        var objects = KubernetesModels.LoadAll(await KustomizeRender.DefaultAsync());

        Assert.NotEmpty(objects);
        var differences = objects.SelectMany(o => KubernetesModels.RoundTripDifferences(o).Select(d => $"{o}: {d}")).ToList();
        Assert.True(differences.Count == 0, "Fields the Kubernetes models do not keep:\n" + string.Join('\n', differences));
    }

    [KubectlFact]
    public async Task Config_default_installs_the_crds_the_operator_the_rbac_and_the_metrics_service()
    {
        var kinds = KubernetesModels.LoadAll(await KustomizeRender.DefaultAsync()).Select(o => o.Kind).ToHashSet();

        Assert.Superset(
            new HashSet<string> { "Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service" },
            kinds);
    }

    [KubectlFact]
    public async Task The_operator_runs_as_a_service_account_of_the_render_bound_to_the_cluster_role_and_the_leader_election_role()
    {
        var objects = KubernetesModels.LoadAll(await KustomizeRender.DefaultAsync());
        var deployment = Assert.Single(objects.Select(o => o.Model).OfType<V1Deployment>());
        var ns = deployment.Metadata.NamespaceProperty;
        var account = deployment.Spec.Template.Spec.ServiceAccountName;

        Assert.False(string.IsNullOrEmpty(account), "the Deployment names no serviceAccountName, so it would run as 'default'");
        Assert.Contains(objects.Select(o => o.Model).OfType<V1ServiceAccount>(), sa => sa.Metadata.Name == account && sa.Metadata.NamespaceProperty == ns);

        bool Binds(V1RoleRef roleRef, IEnumerable<Rbacv1Subject>? subjects, string kind, string name) =>
            roleRef.Kind == kind && roleRef.Name == name
            && (subjects ?? []).Any(s => s.Kind == "ServiceAccount" && s.Name == account && s.NamespaceProperty == ns);

        var clusterRoles = objects.Select(o => o.Model).OfType<V1ClusterRole>().ToList();
        var clusterRole = Assert.Single(clusterRoles);
        Assert.Contains(objects.Select(o => o.Model).OfType<V1ClusterRoleBinding>(), b => Binds(b.RoleRef, b.Subjects, "ClusterRole", clusterRole.Metadata.Name));

        var role = Assert.Single(objects.Select(o => o.Model).OfType<V1Role>(), r => r.Metadata.NamespaceProperty == ns);
        Assert.Contains(role.Rules, r => r.ApiGroups.Contains("coordination.k8s.io") && r.Resources.Contains("leases"));
        Assert.Contains(objects.Select(o => o.Model).OfType<V1RoleBinding>(), b => b.Metadata.NamespaceProperty == ns && Binds(b.RoleRef, b.Subjects, "Role", role.Metadata.Name));
    }

    [KubectlFact]
    public async Task Config_namespaced_grants_secrets_deployments_and_roles_only_in_the_managed_namespace_and_loses_no_rule()
    {
        var objects = KubernetesModels.LoadAll(await KustomizeRender.NamespacedAsync()).Select(o => o.Model).ToList();
        var deployment = Assert.Single(objects.OfType<V1Deployment>());
        var args = deployment.Spec.Template.Spec.Containers[0].Args;
        var watched = args[args.IndexOf("--watch-namespace") + 1];
        var account = deployment.Spec.Template.Spec.ServiceAccountName;

        // Cluster-wide: reading StorageClasses (cluster-scoped) and nothing else.
        var clusterRules = objects.OfType<V1ClusterRole>().SelectMany(r => r.Rules).ToList();
        Assert.All(clusterRules, r => Assert.Equal(["storageclasses"], r.Resources));
        Assert.All(clusterRules, r => Assert.DoesNotContain(r.Verbs, v => v is "create" or "update" or "patch" or "delete" or "*"));

        var role = Assert.Single(objects.OfType<V1Role>(), r => r.Metadata.NamespaceProperty == watched);
        Assert.Contains(objects.OfType<V1RoleBinding>(), b => b.Metadata.NamespaceProperty == watched && b.RoleRef.Kind == "Role" && b.RoleRef.Name == role.Metadata.Name
            && b.Subjects.Any(s => s.Kind == "ServiceAccount" && s.Name == account && s.NamespaceProperty == deployment.Metadata.NamespaceProperty));
        Assert.Contains(role.Rules, r => r.Resources.Contains("secrets") && r.Verbs.Contains("create"));

        // Together they grant exactly what the ClusterRole of config/default grants.
        var all = KubernetesModels.LoadAll(await KustomizeRender.DefaultAsync()).Select(o => o.Model).OfType<V1ClusterRole>().Single().Rules;
        static string Key(V1PolicyRule r) => $"{string.Join(',', r.ApiGroups)}|{string.Join(',', r.Resources)}|{string.Join(',', r.Verbs)}";
        Assert.Equal(all.Select(Key).Order(StringComparer.Ordinal), role.Rules.Concat(clusterRules).Select(Key).Order(StringComparer.Ordinal));
    }

    [KubectlFact]
    public async Task The_metrics_service_selects_the_operator_pods_and_targets_their_metrics_port()
    {
        var objects = KubernetesModels.LoadAll(await KustomizeRender.DefaultAsync());
        var deployment = Assert.Single(objects.Select(o => o.Model).OfType<V1Deployment>());
        var service = Assert.Single(objects.Select(o => o.Model).OfType<V1Service>());
        var podLabels = deployment.Spec.Template.Metadata.Labels;

        Assert.All(service.Spec.Selector, kv => Assert.Equal(kv.Value, podLabels[kv.Key]));
        var containerPorts = deployment.Spec.Template.Spec.Containers.SelectMany(c => c.Ports ?? []).Select(p => p.Name).ToHashSet();
        Assert.All(service.Spec.Ports, p => Assert.Contains(p.TargetPort.Value, containerPorts));
    }

    [KubectlFact]
    public async Task Config_local_runs_one_operator_from_the_locally_loaded_image_and_gives_the_gateways_the_same_image()
    {
        var objects = KubernetesModels.LoadAll(await KustomizeRender.LocalAsync());
        var differences = objects.SelectMany(o => KubernetesModels.RoundTripDifferences(o).Select(d => $"{o}: {d}")).ToList();
        Assert.True(differences.Count == 0, "Fields the Kubernetes models do not keep:\n" + string.Join('\n', differences));

        var deployment = Assert.Single(objects.Select(o => o.Model).OfType<V1Deployment>());
        var operatorContainer = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("buildpool:dev", operatorContainer.Image);
        // An image loaded into kind or k3d exists on no registry: it must never be pulled.
        Assert.Equal("IfNotPresent", operatorContainer.ImagePullPolicy);
        Assert.Equal("buildpool:dev", Assert.Single(operatorContainer.Env, e => e.Name == "BUILDPOOL_IMAGE").Value);
    }
}
