using BuildPool.BuildKit.Client;
using BuildPool.Host.Logging;
using BuildPool.Operator;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Leadership;
using BuildPool.Runtime.Metrics;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace BuildPool.Host.Commands;

/// <summary>
/// Runs the operator in a web host that serves /healthz, /readyz and Prometheus /metrics
/// beside the controller manager.
/// </summary>
public static class OperatorRunner
{
    public sealed record Settings(
        KubernetesClientConfiguration Cluster,
        OperatorOptions Options,
        string MetricsAddress,
        bool LeaderElect,
        string LeaseNamespace,
        string Identity,
        IBuilderConnector? Connector = null,
        Func<System.Net.DnsEndPoint, System.Net.EndPoint?>? ResolveService = null,
        LogSettings? Logs = null);

    private sealed record Instance(Runtime.Hosting.ControllerManager Manager, OperatorCaches Caches);

    public static async Task RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        (settings.Logs ?? LogSettings.Default).Apply(builder.Logging);
        builder.WebHost.UseUrls($"http://{settings.MetricsAddress}");
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(RuntimeMetrics.MeterName, BuildKitMetrics.MeterName, OperatorMetrics.MeterName)
            .AddPrometheusExporter());
        builder.Services.AddSingleton<IKubernetes>(_ => new Kubernetes(settings.Cluster));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new RuntimeMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddSingleton(sp =>
        {
            LeaderElectionRunner? election = null;
            var kubernetes = sp.GetRequiredService<IKubernetes>();
            var time = sp.GetRequiredService<TimeProvider>();
            var loggers = sp.GetRequiredService<ILoggerFactory>();
            var metrics = sp.GetRequiredService<RuntimeMetrics>();
            if (settings.LeaderElect)
            {
                var options = new LeaderElectionOptions { LeaseName = "buildpool-operator", LeaseNamespace = settings.LeaseNamespace, Identity = settings.Identity, FieldManager = OperatorCaches.FieldManager };
                election = new LeaderElectionRunner(LeaderElectionRunner.CreateLeaseLock(kubernetes, options), options, time, loggers, metrics);
            }

            var (manager, caches) = BuildPoolOperator.Create(kubernetes, settings.Options, time, loggers, metrics, election,
                sp.GetRequiredService<IHostApplicationLifetime>(), settings.Connector, settings.ResolveService);
            return new Instance(manager, caches);
        });
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Instance>().Manager);

        await using var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", (IServiceProvider sp) =>
        {
            var caches = sp.GetRequiredService<Instance>().Caches;
            var waiting = caches.All.Where(i => !i.HasSynced).Select(i => i.Name).ToList();
            return waiting.Count == 0 ? Results.Text("ok") : Results.Text("waiting for caches: " + string.Join(", ", waiting), statusCode: 503);
        });
        await app.RunAsync(cancellationToken);
    }
}
