using k8s;
using k8s.Exceptions;

namespace BuildPool.Host.Cluster;

/// <summary>
/// Finds the cluster to talk to (an explicit kubeconfig, $KUBECONFIG, ~/.kube/config, or the
/// in-cluster service account) and checks that it answers before anything starts.
/// </summary>
public static class ClusterConnection
{
    public static KubernetesClientConfiguration Load(string? kubeconfig, string? context)
    {
        try
        {
            if (!string.IsNullOrEmpty(kubeconfig))
            {
                if (!File.Exists(kubeconfig))
                {
                    throw new ClusterUnavailableException($"kubeconfig '{kubeconfig}' does not exist");
                }

                return KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig, context);
            }

            if (KubernetesClientConfiguration.IsInCluster())
            {
                return KubernetesClientConfiguration.InClusterConfig();
            }

            var path = Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
                ?? KubernetesClientConfiguration.KubeConfigDefaultLocation;
            if (!File.Exists(path))
            {
                throw new ClusterUnavailableException($"no cluster configured: no kubeconfig at {path} (set KUBECONFIG or --kubeconfig) and not running in a cluster");
            }

            return KubernetesClientConfiguration.BuildConfigFromConfigFile(path, context);
        }
        catch (KubeConfigException ex)
        {
            throw new ClusterUnavailableException($"the kubeconfig cannot be used: {ex.Message}", ex);
        }
    }

    /// <summary>Asks the API server for its version; a failure becomes one readable line.</summary>
    public static async Task<string> CheckReachableAsync(KubernetesClientConfiguration config, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var client = new Kubernetes(config);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var version = await client.Version.GetCodeAsync(cts.Token);
            return version.GitVersion;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ClusterUnavailableException($"the Kubernetes API at {config.Host} did not answer within {timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            throw new ClusterUnavailableException($"cannot reach the Kubernetes API at {config.Host}: {ex.InnermostMessage()}", ex);
        }
        catch (k8s.Autorest.HttpOperationException ex)
        {
            throw new ClusterUnavailableException($"the Kubernetes API at {config.Host} refused us: HTTP {(int)ex.Response.StatusCode} {ex.Response.ReasonPhrase}", ex);
        }
    }

    private static string InnermostMessage(this Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex.Message;
    }
}
