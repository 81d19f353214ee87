using System.CommandLine;
using BuildPool.Api.Schema;
using BuildPool.Host.Cluster;
using BuildPool.Host.Dev;
using BuildPool.Operator;
using Microsoft.Extensions.Logging;

namespace BuildPool.Host.Commands;

/// <summary>
/// <c>buildpool dev</c> (what <c>make run</c> runs): the operator against the current kube
/// context when it answers; otherwise a local API with the CRDs and samples, so a newcomer
/// sees the operator at work without a cluster.
/// </summary>
public static class DevCommand
{
    public static Command Create()
    {
        var samples = new Option<DirectoryInfo>("--samples") { Description = "Directory of resources to apply to the local API.", DefaultValueFactory = _ => new DirectoryInfo("config/samples") };
        var state = new Option<DirectoryInfo>("--state") { Description = "Where the local API keeps its kubeconfig and data.", DefaultValueFactory = _ => new DirectoryInfo(".local") };
        var port = new Option<int>("--port") { Description = "Port of the local API (0 picks a free one).", DefaultValueFactory = _ => 0 };
        var metrics = new Option<string>("--metrics-address") { Description = "host:port for the operator's /metrics, /healthz, /readyz.", DefaultValueFactory = _ => "127.0.0.1:8080" };
        var local = new Option<bool>("--local") { Description = "Use the local API even when a cluster is reachable." };
        var buildkitd = new Option<FileInfo?>("--buildkitd") { Description = "With the local API: the buildkitd binary that runs builders as local processes (default: buildkitd on PATH; without one, nothing runs pods)." };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "With local builders: the first pool's gateway port on 127.0.0.1; each further pool takes the next (0 picks free ports).", DefaultValueFactory = _ => 1234 };
        var restartBackoff = new Option<string>("--restart-backoff") { Description = "With local builders: the first wait before a crashed builder restarts; it doubles per crash up to 5m (Go duration).", DefaultValueFactory = _ => "10s" };
        var command = new Command("dev", "Run the operator for development: current cluster if reachable, else a local API with the samples (and, with buildkitd, real builders and gateways).") { samples, state, port, metrics, local, buildkitd, gatewayPort, restartBackoff };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new OperatorOptions();
            if (!parse.GetValue(local))
            {
                try
                {
                    var cluster = ClusterConnection.Load(null, null);
                    var version = await ClusterConnection.CheckSupportedAsync(cluster, TimeSpan.FromSeconds(3), crdsInstalled: false, cancellationToken);
                    Console.WriteLine($"using the current kube context: Kubernetes {version} at {cluster.Host}");
                    using (var client = new k8s.Kubernetes(cluster))
                    {
                        var installed = await new ManifestApplier(client, CrdGenerator.Generate()).ApplyCrdsAsync(cancellationToken);
                        Console.WriteLine($"installed {installed} CRDs; apply resources with: kubectl apply -f config/samples/");
                    }

                    await OperatorRunner.RunAsync(new OperatorRunner.Settings(cluster, options, parse.GetValue(metrics)!, false, "default", OperatorCommand.Identity()), cancellationToken);
                    return 0;
                }
                catch (ClusterUnavailableException ex)
                {
                    Console.WriteLine($"no cluster ({ex.Message}); starting a local Kubernetes API instead");
                }
                catch (UnsupportedClusterException ex)
                {
                    // The current context is a real cluster the operator must not run on; starting a local API instead would hide that.
                    await Console.Error.WriteLineAsync($"buildpool dev: {ex.Message} (use --local for the local API)");
                    return 3;
                }
            }

            LocalBuilders? builders;
            try
            {
                builders = LocalBuilders.Find(parse.GetValue(buildkitd), parse.GetValue(gatewayPort), Api.Units.GoDuration.ParsePositive("--restart-backoff", parse.GetValue(restartBackoff)!));
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync($"buildpool dev: {ex.Message}");
                return 2;
            }

            try
            {
                await RunLocalAsync(parse.GetValue(state)!, parse.GetValue(samples)!, parse.GetValue(port), parse.GetValue(metrics)!, options, builders, cancellationToken);
                return 0;
            }
            catch (Exception ex) when (ex is ClusterUnavailableException or IOException or InvalidDataException or k8s.Autorest.HttpOperationException)
            {
                await Console.Error.WriteLineAsync($"buildpool dev: {Describe(ex)}");
                return 1;
            }
        });
        return command;
    }

    private static string Describe(Exception ex) => ex is k8s.Autorest.HttpOperationException http
        ? $"the local API refused a sample: {http.Response.Content}"
        : ex.Message;

    private static async Task RunLocalAsync(DirectoryInfo dir, DirectoryInfo sampleDir, int port, string metrics, OperatorOptions options, LocalBuilders? builders, CancellationToken cancellationToken)
    {
        dir.Create();
        var kubeconfig = new FileInfo(Path.Combine(dir.FullName, "kubeconfig"));
        await using var server = await LocalApiCommand.StartAsync(port, crds: null, kubeconfig, new FileInfo(Path.Combine(dir.FullName, "state.json")), cancellationToken);
        var config = ClusterConnection.Load(kubeconfig.FullName, null);
        using (var client = new k8s.Kubernetes(config))
        {
            var applier = new ManifestApplier(client, CrdGenerator.Generate());
            await applier.ApplyCrdsAsync(cancellationToken);
            if (sampleDir.Exists)
            {
                var applied = await applier.ApplyDirectoryAsync(sampleDir.FullName, "default", cancellationToken);
                Console.WriteLine($"applied {applied.Count} samples: {string.Join(", ", applied)}");
            }
        }

        Console.WriteLine(builders is null
            ? $"""

                local Kubernetes API at {server.BaseAddress} (nothing runs pods here: builders stay Starting)
                  for real builders, install buildkitd (https://github.com/moby/buildkit/releases) on PATH or pass --buildkitd PATH
                  export KUBECONFIG={kubeconfig.FullName}
                  kubectl get builderpools,cachevolumes,deployments
                stop with Ctrl-C; objects are kept in {dir.FullName}/state.json

                """
            : $"""

                local Kubernetes API at {server.BaseAddress}; builders run as {builders.Buildkitd} processes, caches in {Path.Combine(dir.FullName, "kubelet", "volumes")}
                  export KUBECONFIG={kubeconfig.FullName}
                  kubectl get builderpools,cachevolumes,pods
                stop with Ctrl-C; objects are kept in {dir.FullName}/state.json, caches survive restarts
                each pool's gateway prints its docker buildx create line when it starts

                """);
        if (builders is null)
        {
            // Nothing runs here, so no Service has an endpoint: cluster names resolve to nothing
            // (a clear refusal in status) rather than going to the machine's resolver.
            await OperatorRunner.RunAsync(new OperatorRunner.Settings(config, options, metrics, false, "default", OperatorCommand.Identity(), ResolveService: new ServiceDirectory().Resolve), cancellationToken);
            return;
        }

        using var loggers = LoggerFactory.Create(l => l.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        }));
        using var kubernetes = new k8s.Kubernetes(config);
        await using var kubelet = LocalKubelet.Start(new Runtime.Client.KubernetesTransport(kubernetes), new LocalKubeletOptions
        {
            StateDirectory = dir.FullName,
            BuildkitdPath = builders.Buildkitd,
            Kubeconfig = kubeconfig.FullName,
            FirstGatewayPort = builders.GatewayPort,
            RestartBackoff = builders.RestartBackoff,
        }, loggers.CreateLogger<LocalKubelet>());
        // The operator dials builders by their Service names, as in a cluster; here those resolve to the local processes.
        await OperatorRunner.RunAsync(new OperatorRunner.Settings(config, options, metrics, false, "default", OperatorCommand.Identity(), ResolveService: kubelet.Services.Resolve), cancellationToken);
    }
}
