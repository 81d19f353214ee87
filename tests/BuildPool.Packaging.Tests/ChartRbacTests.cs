using System.Text.Json.Nodes;

namespace BuildPool.Packaging.Tests;

public sealed class ChartRbacTests
{
    [Theory]
    [InlineData("clusterrole.yaml", "rbac/role.yaml", "ClusterRole")]
    [InlineData("leader-election-role.yaml", "rbac/leader_election_role.yaml", "Role")]
    public void The_chart_grants_the_operator_exactly_the_rules_of_config_rbac(string template, string config, string kind)
    {
        var chartRules = LiteralRules(File.ReadAllText(ChartPaths.Template(template)), template);
        var configRules = YamlJson.LoadAll(File.ReadAllText(Path.Combine(ChartPaths.Config, config)))
            .Single(o => (string?)o!["kind"] == kind)!["rules"];

        var chart = chartRules!.AsArray().Select(r => r!.ToJsonString()).ToList();
        var fromConfig = configRules!.AsArray().Select(r => r!.ToJsonString()).ToList();
        Assert.True(
            JsonNode.DeepEquals(configRules, chartRules),
            $"charts/buildpool/templates/{template} rules differ from config/{config} (copy the rules block over):\n"
            + $"only in the chart:  {string.Join("\n                    ", chart.Except(fromConfig))}\n"
            + $"only in config:     {string.Join("\n                    ", fromConfig.Except(chart))}");
    }

    [Fact]
    public void With_rbac_namespaced_the_chart_grants_the_rules_of_config_namespaced_in_the_watch_namespace_and_only_storage_classes_cluster_wide()
    {
        const string template = "namespaced-role.yaml";
        var text = File.ReadAllText(ChartPaths.Template(template));
        var role = LiteralRules(text, template, "Role");
        var configRole = YamlJson.LoadAll(File.ReadAllText(Path.Combine(ChartPaths.Config, "namespaced", "role.yaml")))
            .Single(o => (string?)o!["kind"] == "Role")!["rules"];
        Assert.True(JsonNode.DeepEquals(configRole, role), $"charts/buildpool/templates/{template} Role rules differ from config/namespaced/role.yaml (copy the rules block over)");
        Assert.Contains("namespace: {{ .Values.watchNamespace }}", text, StringComparison.Ordinal);

        var clusterRules = LiteralRules(text, template, "ClusterRole")!.AsArray();
        Assert.All(clusterRules, r => Assert.Equal("[\"storageclasses\"]", r!["resources"]!.ToJsonString()));
        Assert.Contains("{{- if and .Values.rbac.create (not .Values.rbac.namespaced) }}", File.ReadAllText(ChartPaths.Template("clusterrole.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_cluster_role_binding_binds_the_cluster_role_to_the_operators_service_account()
    {
        var binding = File.ReadAllText(ChartPaths.Template("clusterrolebinding.yaml"));
        var role = File.ReadAllText(ChartPaths.Template("clusterrole.yaml"));
        var deployment = File.ReadAllText(ChartPaths.Template("deployment.yaml"));
        var account = File.ReadAllText(ChartPaths.Template("serviceaccount.yaml"));

        // Without a renderer, compare the name expressions: the same include yields the same name.
        const string roleName = "name: {{ include \"buildpool.fullname\" . }}-operator";
        const string accountName = "{{ include \"buildpool.serviceAccountName\" . }}";
        Assert.Contains(roleName, role, StringComparison.Ordinal);
        Assert.Contains("kind: ClusterRole\n  " + roleName, binding, StringComparison.Ordinal);
        Assert.Contains("- kind: ServiceAccount\n    name: " + accountName + "\n    namespace: {{ .Release.Namespace }}", binding, StringComparison.Ordinal);
        Assert.Contains("name: " + accountName, account, StringComparison.Ordinal);
        Assert.Contains("serviceAccountName: " + accountName, deployment, StringComparison.Ordinal);
    }

    // The rules block of a template, which must be literal YAML: from `rules:` to the next
    // template action on a line of its own (the closing `end`) or the end of the document.
    // With a kind, the rules of the template's document of that kind.
    private static JsonNode? LiteralRules(string text, string template, string? kind = null)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        if (kind is not null)
        {
            var from = Array.FindIndex(lines, l => l == $"kind: {kind}");
            Assert.True(from >= 0, $"{template} has no {kind}");
            lines = lines[from..];
        }

        var start = Array.FindIndex(lines, l => l == "rules:");
        Assert.True(start >= 0, $"{template} has no top-level 'rules:'");
        var block = lines.Skip(start).TakeWhile((l, i) => i == 0 || !(l.TrimStart().StartsWith("{{", StringComparison.Ordinal) || l == "---")).ToList();
        Assert.DoesNotContain(block, l => l.Contains("{{", StringComparison.Ordinal));
        return YamlJson.Load(string.Join('\n', block))!["rules"];
    }
}
