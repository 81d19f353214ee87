using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using BuildPool.BuildKit.Client;
using BuildPool.Gateway.Server;
using BuildPool.Operator;
using BuildPool.Operator.Hosting;
using BuildPool.Runtime.Metrics;
using BuildPool.TestDoubles;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Packaging.Tests;

/// <summary>
/// docs/metrics.md against the instruments the operator and the gateway really create: each
/// meter is instantiated and a <see cref="MeterListener"/> sees what it publishes.
/// </summary>
public sealed partial class MetricsReferenceTests
{
    private static readonly Lazy<IReadOnlyList<Instrument>> Created = new(CreateAll);

    private static readonly string Reference = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "metrics.md"));

    [Fact]
    public void Every_instrument_the_code_creates_is_in_the_metrics_reference_under_its_scraped_name_and_type()
    {
        var documented = Documented();
        var problems = new List<string>();
        foreach (var instrument in Created.Value)
        {
            var name = PrometheusName(instrument);
            if (!documented.TryGetValue(name, out var type))
            {
                problems.Add($"{name} (instrument {instrument.Name} of meter {instrument.Meter.Name}) is missing");
            }
            else if (type != PrometheusType(instrument))
            {
                problems.Add($"{name} is a {PrometheusType(instrument)}, the reference says {type}");
            }
        }

        Assert.True(problems.Count == 0, "docs/metrics.md:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void The_metrics_reference_lists_only_metrics_the_code_creates()
    {
        var scraped = Created.Value.Select(PrometheusName).ToHashSet(StringComparer.Ordinal);
        var unknown = Documented().Keys.Where(n => !scraped.Contains(n)).ToList();

        Assert.True(unknown.Count == 0, "docs/metrics.md lists metrics nothing exports: " + string.Join(", ", unknown));
    }

    [Fact]
    public void Every_instrument_named_in_the_source_is_one_this_test_instantiates()
    {
        // A new meter class must be added to CreateAll, or its metrics would escape the checks above.
        var inSource = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => InstrumentCreation().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        var instantiated = Created.Value.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(inSource);
        Assert.True(inSource.SetEquals(instantiated),
            $"created in src/ but not instantiated here: {string.Join(", ", inSource.Except(instantiated))}; instantiated but not found in src/: {string.Join(", ", instantiated.Except(inSource))}");
    }

    [Theory]
    [InlineData("buildpool_gateway_builds", "counter", null, "buildpool_gateway_builds_total")]
    [InlineData("buildpool_prunes_total", "counter", null, "buildpool_prunes_total")]
    [InlineData("buildpool_pruned_bytes_total", "counter", "By", "buildpool_pruned_bytes_total")]
    [InlineData("buildpool_gateway_proxied_bytes", "counter", "By", "buildpool_gateway_proxied_bytes_total")]
    [InlineData("buildpool_gateway_queue_wait", "histogram", "s", "buildpool_gateway_queue_wait_seconds")]
    [InlineData("controller_runtime_reconcile_time_seconds", "histogram", "s", "controller_runtime_reconcile_time_seconds")]
    [InlineData("buildpool_volume_used_bytes", "gauge", "By", "buildpool_volume_used_bytes")]
    public void Scraped_names_follow_the_Prometheus_exporter(string instrument, string type, string? unit, string scraped) =>
        Assert.Equal(scraped, PrometheusName(instrument, type, unit));

    /// <summary>
    /// Every series name a scrape of the operator and the gateways can show: counters with
    /// <c>_total</c>, histograms as <c>_bucket</c>, <c>_sum</c> and <c>_count</c>, units as suffixes;
    /// with <paramref name="families"/>, histograms' family names too (what a reference names, not a query).
    /// </summary>
    internal static IReadOnlySet<string> ScrapedSeries(bool families = false) => Created.Value
        .SelectMany(i => PrometheusType(i) == "histogram"
            ? new[] { "_bucket", "_sum", "_count" }.Select(suffix => PrometheusName(i) + suffix).Concat(families ? [PrometheusName(i)] : [])
            : [PrometheusName(i)])
        .ToHashSet(StringComparer.Ordinal);

    private static IReadOnlyList<Instrument> CreateAll()
    {
        var found = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name.StartsWith("BuildPool.", StringComparison.Ordinal))
                {
                    lock (found)
                    {
                        found.Add(instrument);
                    }
                }
            },
        };

        // The hosts create these; static meters exist once their class is initialised.
        using var runtime = new RuntimeMetrics();
        using var gateway = new GatewayMetrics();
        gateway.ObserveQueued(() => 0);
        gateway.ObserveUpstreamBuffered(() => 0);
        using var passthrough = new BuildPool.Gateway.Passthrough.PassthroughMetrics();
        using var kubernetes = new Kubernetes(new KubernetesClientConfiguration { Host = "http://127.0.0.1:9" });
        var caches = new OperatorCaches(kubernetes, new OperatorOptions(), TimeProvider.System, NullLoggerFactory.Instance);
        using var operatorMetrics = caches.Metrics;
        RuntimeHelpers.RunClassConstructor(typeof(BuildKitMetrics).TypeHandle);
        RuntimeHelpers.RunClassConstructor(typeof(RuntimeMetrics).Assembly.GetType("BuildPool.Runtime.Client.ClientMetrics", throwOnError: true)!.TypeHandle);

        // Start publishes every instrument that exists by now.
        listener.Start();
        lock (found)
        {
            return found.DistinctBy(i => (i.Meter.Name, i.Name)).ToList();
        }
    }

    private static string PrometheusType(Instrument instrument) => instrument.GetType().GetGenericTypeDefinition() switch
    {
        var t when t == typeof(Counter<>) || t == typeof(ObservableCounter<>) => "counter",
        var t when t == typeof(Histogram<>) => "histogram",
        _ => "gauge",
    };

    private static string PrometheusName(Instrument instrument) => PrometheusName(instrument.Name, PrometheusType(instrument), instrument.Unit);

    // OpenTelemetry's Prometheus exporter: the unit as a suffix unless the name has it, and
    // _total at the end of every counter.
    private static string PrometheusName(string name, string type, string? unit)
    {
        var counter = type == "counter";
        if (counter && name.EndsWith("_total", StringComparison.Ordinal))
        {
            name = name[..^"_total".Length];
        }

        var suffix = unit switch { "s" => "seconds", "By" => "bytes", _ => null };
        if (suffix is not null && !name.Split('_').Contains(suffix))
        {
            name += "_" + suffix;
        }

        return counter ? name + "_total" : name;
    }

    private static Dictionary<string, string> Documented() =>
        ReferenceRow().Matches(Reference).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);

    [GeneratedRegex(@"^\|\s*`([a-z_]+)`\s*\|\s*(counter|gauge|histogram)\s*\|", RegexOptions.Multiline)]
    private static partial Regex ReferenceRow();

    [GeneratedRegex(@"Create(?:Counter|Histogram|ObservableGauge|Gauge|UpDownCounter|ObservableCounter|ObservableUpDownCounter)(?:<[a-z]+>)?\(\s*""([a-z_]+)""")]
    private static partial Regex InstrumentCreation();
}
