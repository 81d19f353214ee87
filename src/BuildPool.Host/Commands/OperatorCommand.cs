using System.CommandLine;
using BuildPool.Host.Cluster;
using BuildPool.Host.Logging;
using BuildPool.Operator;

namespace BuildPool.Host.Commands;

/// <summary><c>buildpool operator</c>: runs the controllers against the current kubeconfig or the in-cluster config.</summary>
public static class OperatorCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)." };
        var context = new Option<string?>("--context") { Description = "Kubeconfig context to use." };
        var watchNamespace = new Option<string?>("--watch-namespace") { Description = "Only manage resources in this namespace (default: all)." };
        var metrics = new Option<string>("--metrics-address") { Description = "host:port for /metrics, /healthz and /readyz.", DefaultValueFactory = _ => "127.0.0.1:8080" };
        var leaderElect = new Option<bool>("--leader-elect") { Description = "Take part in leader election (run this with 2+ replicas)." };
        var leaseNamespace = new Option<string?>("--lease-namespace") { Description = "Namespace of the leader election Lease (default: $POD_NAMESPACE or buildpool-system)." };
        var gatewayImage = new Option<string>("--gateway-image") { Description = "Image the pools' gateway Deployments run.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BUILDPOOL_IMAGE") ?? "buildpool:latest" };
        var pullSecrets = new Option<string[]>("--image-pull-secret")
        {
            Description = "A Secret (kubernetes.io/dockerconfigjson) set as imagePullSecrets on the gateway, builder and registry pods the operator creates; repeat for more. It must exist in each pool's namespace.",
            DefaultValueFactory = _ => [],
        };
        var command = new Command("operator", "Run the BuildPool operator.") { kubeconfig, context, watchNamespace, metrics, leaderElect, leaseNamespace, gatewayImage, pullSecrets };
        var logFlags = LogSettings.Flags.Create();
        logFlags.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            LogSettings logs;
            try
            {
                logs = logFlags.Read(parse);
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync($"buildpool operator: {ex.Message}");
                return 2;
            }

            try
            {
                var cluster = ClusterConnection.Load(parse.GetValue(kubeconfig), parse.GetValue(context));
                // Before anything starts: on a server that is too old or lacks an API, no controller may run.
                var version = await ClusterConnection.CheckSupportedAsync(cluster, TimeSpan.FromSeconds(10), crdsInstalled: true, cancellationToken);
                if (logs.Format == LogFormat.Text)
                {
                    // A log pipeline reading JSON lines gets no free text on stdout.
                    Console.WriteLine($"buildpool operator: Kubernetes {version} at {cluster.Host}");
                }
                var ns = parse.GetValue(leaseNamespace) ?? Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? "buildpool-system";
                var options = new OperatorOptions
                {
                    WatchNamespace = parse.GetValue(watchNamespace),
                    GatewayImage = parse.GetValue(gatewayImage)!,
                    GatewayLogArgs = logs.Args(),
                    ImagePullSecrets = parse.GetValue(pullSecrets) ?? [],
                    OperatorNamespace = ns,
                };
                await OperatorRunner.RunAsync(
                    new OperatorRunner.Settings(cluster, options, parse.GetValue(metrics)!, parse.GetValue(leaderElect), ns, Identity(), Logs: logs),
                    cancellationToken);
                return 0;
            }
            catch (ClusterUnavailableException ex)
            {
                await Console.Error.WriteLineAsync($"buildpool operator: {ex.Message}");
                return 2;
            }
            catch (UnsupportedClusterException ex)
            {
                await Console.Error.WriteLineAsync($"buildpool operator: {ex.Message}");
                return 3;
            }
        });
        return command;
    }

    internal static string Identity() =>
        Environment.GetEnvironmentVariable("POD_NAME") ?? $"{Environment.MachineName}-{Environment.ProcessId}";
}
