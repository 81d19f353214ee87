using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.RegularExpressions;
using BuildPool.Host.Commands;
using BuildPool.LocalApi;
using BuildPool.Operator;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Metrics;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;

namespace BuildPool.Host.Tests;

/// <summary>Runs alone: its listener and the exporter see every meter of the process by name.</summary>
[CollectionDefinition(nameof(MetricsScrapeTests), DisableParallelization = true)]
public sealed class MetricsScrapeCollection;

/// <summary>
/// The operator's <c>/metrics</c> as Prometheus scrapes it: the controller-runtime series a Go
/// operator's dashboards use, with their labels and bucket boundaries, and a p99 reconcile time
/// from the buckets that agrees with the reconcile times really measured.
/// </summary>
[Collection(nameof(MetricsScrapeTests))]
public sealed partial class MetricsScrapeTests
{
    private const string Reconcile = "controller_runtime_reconcile_time_seconds";

    [Fact]
    public async Task A_scrape_after_some_reconciles_has_controller_runtime_series_with_their_buckets_and_a_p99_within_one_bucket_of_the_measured_one()
    {
        var measured = new List<double>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RuntimeMetrics.MeterName && instrument.Name == Reconcile)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (measured)
            {
                measured.Add(value);
            }
        });
        listener.Start();

        await using var server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await server.StartAsync();
        using var client = server.CreateClient();
        var port = LoopbackPort.Free();
        using var stop = new CancellationTokenSource();
        var options = new OperatorOptions { WatchNamespace = "default", DrainPollInterval = TimeSpan.FromMilliseconds(300) };
        var run = OperatorRunner.RunAsync(new OperatorRunner.Settings(new KubernetesClientConfiguration { Host = server.BaseAddress.ToString().TrimEnd('/') }, options, $"127.0.0.1:{port}", false, "default", "metrics-test"), stop.Token);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await new ResourceClient<Api.V1Alpha1.BuilderPool>(client).CreateAsync(new Api.V1Alpha1.BuilderPool { Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "default" } });

            // Scraped and measured agree once a scrape falls between reconciles: the same count on both sides.
            var (text, values) = await Eventually.WaitAsync(async () =>
            {
                var before = Snapshot(measured);
                var scraped = await http.GetStringAsync("/metrics");
                return (Text: scraped, Values: Snapshot(measured).Count == before.Count ? before : []);
            }, s => s.Values.Count >= 20 && Count(s.Text) == s.Values.Count, "a scrape after 20 reconciles, taken between two of them", TimeSpan.FromMinutes(2));

            var buckets = Buckets(text, Reconcile);
            Assert.Equal([.. HistogramBuckets.ReconcileTime, double.PositiveInfinity], buckets.Select(b => b.Le));
            var fromBuckets = QuantileBucket(buckets, 0.99);
            var sorted = values.Order().ToList();
            var p99 = sorted[(int)Math.Ceiling(0.99 * sorted.Count) - 1];
            var measuredBucket = buckets.FindIndex(b => p99 <= b.Le);
            Assert.InRange(fromBuckets, measuredBucket - 1, measuredBucket + 1);

            Assert.Equal([.. HistogramBuckets.Workqueue, double.PositiveInfinity], Buckets(text, "workqueue_queue_duration_seconds").Select(b => b.Le));
            Assert.Equal([.. HistogramBuckets.Workqueue, double.PositiveInfinity], Buckets(text, "workqueue_work_duration_seconds").Select(b => b.Le));
            Assert.Matches(Series("controller_runtime_max_concurrent_reconciles", "controller=\"cachevolume\"") + " 2", text);
            Assert.Matches(Series("workqueue_unfinished_work_seconds", "name=\"builderpool\""), text);
            Assert.Matches(Series("workqueue_longest_running_processor_seconds", "name=\"cachevolume\""), text);
            Assert.Matches(Series("rest_client_requests_total", "code=\"200\"", "host=\"127.0.0.1:", "method=\"GET\""), text);
            Assert.Matches(Series("rest_client_requests_total", "code=\"201\"", "method=\"POST\""), text);
            Assert.Matches(Series("controller_runtime_reconcile_total", "controller=\"builderpool\"", "result=\""), text);
            Assert.Matches(Series("buildpool_pool_volumes", "namespace=\"default\"", "pool=\"ci\""), text);
        }
        finally
        {
            await stop.CancelAsync();
            await run;
        }
    }

    private static List<double> Snapshot(List<double> measured)
    {
        lock (measured)
        {
            return [.. measured];
        }
    }

    private static long Count(string text) => Buckets(text, Reconcile) is { Count: > 0 } b ? b[^1].Count : -1;

    /// <summary>A histogram's cumulative buckets summed over its other labels, by boundary.</summary>
    private static List<(double Le, long Count)> Buckets(string text, string histogram) =>
        BucketLine().Matches(text)
            .Where(m => m.Groups["name"].Value == histogram)
            .Select(m => (Le: m.Groups["le"].Value == "+Inf" ? double.PositiveInfinity : double.Parse(m.Groups["le"].Value, CultureInfo.InvariantCulture), Count: long.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture)))
            .GroupBy(b => b.Le)
            .Select(g => (g.Key, g.Sum(b => b.Count)))
            .OrderBy(b => b.Key)
            .ToList();

    /// <summary>The index of the bucket Prometheus' histogram_quantile lands in: the first whose cumulative count reaches q of all.</summary>
    private static int QuantileBucket(List<(double Le, long Count)> buckets, double q) =>
        buckets.FindIndex(b => b.Count >= q * buckets[^1].Count);

    /// <summary>A pattern for one series of <paramref name="name"/> whose labels contain each of <paramref name="labels"/>.</summary>
    private static string Series(string name, params string[] labels) =>
        "(?m)^" + Regex.Escape(name) + @"\{" + string.Concat(labels.Select(l => $"(?=[^}}]*{Regex.Escape(l)})")) + @"[^}]*\}";

    [GeneratedRegex(@"^(?<name>[a-z_]+)_bucket\{[^}]*le=""(?<le>[^""]+)""[^}]*\} (?<count>\d+)", RegexOptions.Multiline)]
    private static partial Regex BucketLine();

}
