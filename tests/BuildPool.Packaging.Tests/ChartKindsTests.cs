using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BuildPool.Packaging.Tests;

public sealed partial class ChartKindsTests
{
    // Helm installs into a release namespace it is given (--create-namespace), so the chart has
    // no Namespace; config/default creates buildpool-system itself.
    private static readonly string[] OnlyInConfig = ["Namespace"];

    // Optional extras of the chart, off by default; config/prometheus (applied on its own) has them.
    private static readonly string[] OnlyInChart = ["ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"];

    [Fact]
    public void The_chart_installs_as_many_objects_of_each_kind_as_config_default_does()
    {
        var config = Count(ConfigKinds(Path.Combine(ChartPaths.Config, "default")).Where(k => !OnlyInConfig.Contains(k)));
        var chart = Count(ChartKinds().Where(k => !OnlyInChart.Contains(k)));

        var differences = config.Keys.Union(chart.Keys).Order(StringComparer.Ordinal)
            .Where(k => config.GetValueOrDefault(k) != chart.GetValueOrDefault(k))
            .Select(k => $"{k}: config/default {config.GetValueOrDefault(k)}, chart {chart.GetValueOrDefault(k)}")
            .ToList();
        Assert.NotEmpty(config);
        Assert.True(differences.Count == 0, "config/default and charts/buildpool install different objects:\n" + string.Join('\n', differences));
    }

    [Fact]
    public void The_kinds_only_one_side_installs_are_really_there()
    {
        Assert.All(OnlyInConfig, k => Assert.Contains(k, ConfigKinds(Path.Combine(ChartPaths.Config, "default"))));
        Assert.All(OnlyInChart, k => Assert.Contains(k, ChartKinds()));
    }

    // Follows each kustomization's resources (files and directories) like kustomize does.
    private static IEnumerable<string> ConfigKinds(string directory)
    {
        var kustomization = YamlJson.Load(File.ReadAllText(Path.Combine(directory, "kustomization.yaml")))!;
        foreach (var resource in kustomization["resources"]!.AsArray().Select(r => r!.GetValue<string>()))
        {
            var path = Path.GetFullPath(Path.Combine(directory, resource));
            var kinds = Directory.Exists(path)
                ? ConfigKinds(path)
                : YamlJson.LoadAll(File.ReadAllText(path)).OfType<JsonNode>().Select(d => d["kind"]!.GetValue<string>());
            foreach (var kind in kinds)
            {
                yield return kind;
            }
        }
    }

    // rbac.namespaced (off by default) replaces the ClusterRole's rules; config/namespaced is its counterpart.
    private static readonly string[] AlternativeTemplates = ["namespaced-role.yaml"];

    // Templates are not YAML until rendered; their top-level kind: lines are.
    private static IEnumerable<string> ChartKinds() =>
        Directory.EnumerateFiles(ChartPaths.Templates, "*.yaml")
            .Where(f => !AlternativeTemplates.Contains(Path.GetFileName(f)))
            .Concat(Directory.EnumerateFiles(Path.Combine(ChartPaths.Chart, "crds"), "*.yaml"))
            .SelectMany(f => TopLevelKind().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value));

    private static Dictionary<string, int> Count(IEnumerable<string> kinds) =>
        kinds.GroupBy(k => k, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    [GeneratedRegex(@"^kind:\s*(\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex TopLevelKind();
}
