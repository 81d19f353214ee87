using System.CommandLine;
using BuildPool.Api.Schema;
using BuildPool.Host.Cluster;
using BuildPool.Operator;

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
        var command = new Command("dev", "Run the operator for development: current cluster if reachable, else a local API with the samples.") { samples, state, port, metrics, local };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new OperatorOptions();
            if (!parse.GetValue(local))
            {
                try
                {
                    var cluster = ClusterConnection.Load(null, null);
                    var version = await ClusterConnection.CheckReachableAsync(cluster, TimeSpan.FromSeconds(3), cancellationToken);
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
            }

            try
            {
                await RunLocalAsync(parse.GetValue(state)!, parse.GetValue(samples)!, parse.GetValue(port), parse.GetValue(metrics)!, options, cancellationToken);
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

    private static async Task RunLocalAsync(DirectoryInfo dir, DirectoryInfo sampleDir, int port, string metrics, OperatorOptions options, CancellationToken cancellationToken)
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

        Console.WriteLine($"""

                local Kubernetes API at {server.BaseAddress} (nothing runs pods here: builders stay Starting)
                  export KUBECONFIG={kubeconfig.FullName}
                  kubectl get builderpools,cachevolumes,deployments
                stop with Ctrl-C; objects are kept in {dir.FullName}/state.json

                """);
        await OperatorRunner.RunAsync(new OperatorRunner.Settings(config, options, metrics, false, "default", OperatorCommand.Identity()), cancellationToken);
    }
}
