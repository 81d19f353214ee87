using System.Text.RegularExpressions;
using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

public sealed partial class ChartDeploymentTests
{
    [Fact]
    public void Every_flag_the_chart_passes_the_operator_is_an_operator_flag()
    {
        var known = OperatorFlags();
        var passed = ChartFlags();

        Assert.NotEmpty(known);
        Assert.True(passed.Except(known).ToList() is [], $"the chart passes flags `buildpool operator` does not have: {string.Join(", ", passed.Except(known))} (known: {string.Join(", ", known)})");
    }

    [Fact]
    public void The_chart_passes_the_operator_every_flag_config_manager_passes_it()
    {
        var manager = YamlJson.LoadAll(File.ReadAllText(Path.Combine(ChartPaths.Config, "manager", "manager.yaml")))
            .Single(o => (string?)o!["kind"] == "Deployment")!;
        var args = manager["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => (string)a!).ToList();

        Assert.Equal("operator", args[0]);
        Assert.Contains("- operator", File.ReadAllText(ChartPaths.Template("deployment.yaml")), StringComparison.Ordinal);
        Assert.Subset(ChartFlags(), args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet());
    }

    [Fact]
    public void The_operator_pods_carry_the_labels_pool_network_policies_admit_the_operator_by()
    {
        // BuilderPoolPlanner's NetworkPolicy lets pods labelled name=buildpool, component=operator reach the builders.
        var helpers = File.ReadAllText(ChartPaths.Template("_helpers.tpl"));
        var selector = Regex.Match(helpers, @"define ""buildpool.selectorLabels"" -}}\n(?<body>.*?)\{\{- end }}", RegexOptions.Singleline);

        Assert.True(selector.Success, "no buildpool.selectorLabels in _helpers.tpl");
        Assert.Contains("app.kubernetes.io/name: buildpool\n", selector.Groups["body"].Value, StringComparison.Ordinal);
        Assert.Contains("app.kubernetes.io/component: operator", selector.Groups["body"].Value, StringComparison.Ordinal);
        Assert.Contains("{{- include \"buildpool.labels\" . | nindent 8 }}", File.ReadAllText(ChartPaths.Template("deployment.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void Chart_yaml_names_the_chart_after_its_folder_with_semantic_versions()
    {
        var chart = YamlJson.Load(File.ReadAllText(Path.Combine(ChartPaths.Chart, "Chart.yaml")))!;

        Assert.Equal("v2", (string?)chart["apiVersion"]);
        Assert.Equal("buildpool", (string?)chart["name"]);
        Assert.Matches(SemVer(), (string?)chart["version"] ?? "");
        Assert.Matches(SemVer(), (string?)chart["appVersion"] ?? "");
    }

    private static HashSet<string> OperatorFlags()
    {
        // The command's own flags, and the logging flags it adds from LogSettings.
        var source = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "BuildPool.Host", "Commands", "OperatorCommand.cs"))
            + File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "BuildPool.Host", "Logging", "LogSettings.cs"));
        return [.. OptionDeclaration().Matches(source).Select(m => m.Groups[1].Value)];
    }

    private static HashSet<string> ChartFlags() =>
        [.. ArgFlag().Matches(File.ReadAllText(ChartPaths.Template("deployment.yaml"))).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"new Option<[^>]+>\(""(--[a-z][a-z-]*)""")]
    private static partial Regex OptionDeclaration();

    [GeneratedRegex(@"(?m)^\s*-\s+(--[a-z][a-z-]*)\s*$")]
    private static partial Regex ArgFlag();

    [GeneratedRegex(@"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemVer();
}
