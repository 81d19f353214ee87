using System.Text.Json;
using System.Text.RegularExpressions;
using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

public sealed partial class MonitoringTests
{
    // Instrument names as the code creates them ("buildpool_pool_volumes", "workqueue_depth", ...).
    private static readonly HashSet<string> Exported = Directory
        .EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
        .SelectMany(f => InstrumentName().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
        .ToHashSet(StringComparer.Ordinal);

    public static TheoryData<string> Files() => new("config/prometheus/alerts.yaml", "docs/grafana/buildpool-dashboard.json");

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_buildpool_metric_an_alert_or_panel_uses_is_one_the_code_exports(string file)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, file));
        var used = MetricReference().Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(used);
        var unknown = used.Where(name => !Exported.Contains(WithoutPrometheusSuffixes(name))).ToList();
        Assert.True(unknown.Count == 0, $"{file} uses metrics no code exports: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void The_dashboard_is_valid_json_with_a_query_in_every_panel()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs/grafana/buildpool-dashboard.json")));
        var panels = doc.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        Assert.All(panels, p => Assert.NotEmpty(p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString())));
    }

    // The Prometheus exporter adds a unit suffix (_seconds, _bytes), _total to counters and
    // _bucket/_sum/_count to histograms; the code names the instrument without some of them.
    private static string WithoutPrometheusSuffixes(string name)
    {
        foreach (var candidate in Candidates(name))
        {
            if (Exported.Contains(candidate))
            {
                return candidate;
            }
        }

        return name;
    }

    private static IEnumerable<string> Candidates(string name)
    {
        var stem = Regex.Replace(name, "_(bucket|sum|count)$", string.Empty);
        yield return stem;
        var noTotal = Regex.Replace(stem, "_total$", string.Empty);
        yield return noTotal;
        yield return Regex.Replace(noTotal, "_(seconds|bytes)$", string.Empty);
    }

    [GeneratedRegex(@"Create(?:Counter|Histogram|ObservableGauge|Gauge|UpDownCounter|ObservableCounter|ObservableUpDownCounter)(?:<[a-z]+>)?\(\s*""([a-z_]+)""")]
    private static partial Regex InstrumentName();

    [GeneratedRegex(@"\b(?:buildpool|controller_runtime|workqueue|leader_election)_[a-z_]+\b")]
    private static partial Regex MetricReference();
}
