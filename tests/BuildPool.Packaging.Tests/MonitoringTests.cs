using System.Text.Json;
using System.Text.RegularExpressions;
using BuildPool.TestDoubles;

namespace BuildPool.Packaging.Tests;

public sealed partial class MonitoringTests
{
    public static TheoryData<string> Files() => new(
        "config/prometheus/alerts.yaml", "config/prometheus/buildpool-dashboard.json",
        "charts/buildpool/files/alerts.yaml", "charts/buildpool/files/buildpool-dashboard.json", "docs/metrics.md");

    // The reference names histograms by family; its PromQL examples still have to use series.

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_buildpool_metric_an_alert_panel_or_query_uses_is_a_series_a_scrape_shows(string file)
    {
        // Exact series names, as OpenTelemetry's Prometheus exporter writes them: a panel on
        // buildpool_gateway_queue_wait_bucket (no _seconds) would show nothing, so it fails here.
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, file));
        var reference = file.EndsWith(".md", StringComparison.Ordinal);
        var scraped = MetricsReferenceTests.ScrapedSeries(families: reference);
        if (reference)
        {
            Assert.True(Promql().Match(text) is { Success: true } queries && MetricReference().Matches(queries.Value).All(m => MetricsReferenceTests.ScrapedSeries().Contains(m.Value)),
                $"{file}: a PromQL example uses a series no scrape shows");
        }

        var used = MetricReference().Matches(text).Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(used);
        var unknown = used.Where(name => !scraped.Contains(name)).ToList();
        Assert.True(unknown.Count == 0, $"{file} uses series no scrape shows: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void The_dashboard_is_valid_json_with_a_query_in_every_panel()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config/prometheus/buildpool-dashboard.json")));
        var panels = doc.RootElement.GetProperty("panels").EnumerateArray().ToList();
        Assert.NotEmpty(panels);
        Assert.All(panels, p => Assert.NotEmpty(p.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString())));
    }

    [GeneratedRegex(@"```promql\n.*?```", RegexOptions.Singleline)]
    private static partial Regex Promql();

    [GeneratedRegex(@"\b(?:buildpool|controller_runtime|workqueue|leader_election|rest_client)_[a-z_]+\b")]
    private static partial Regex MetricReference();
}
