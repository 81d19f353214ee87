using System.Net;
using BuildPool.Operator.Hosting;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Exceptions;
using k8s.Models;

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

    /// <summary>
    /// Reads the server's version and discovery and throws <see cref="UnsupportedClusterException"/>
    /// with one line when the operator must not start there (see <see cref="ClusterRequirements"/>).
    /// Returns the server's gitVersion.
    /// </summary>
    /// <param name="crdsInstalled">Whether the project's CRDs must already be served (false before <c>buildpool dev</c> installs them).</param>
    public static async Task<string> CheckSupportedAsync(KubernetesClientConfiguration config, TimeSpan timeout, bool crdsInstalled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var gitVersion = await CheckReachableAsync(config, timeout, cancellationToken);
        var required = crdsInstalled ? ClusterRequirements.BuiltIn.Concat(ClusterRequirements.Custom).ToList() : ClusterRequirements.BuiltIn.ToList();
        using var client = new Kubernetes(config);
        var transport = new KubernetesTransport(client);
        var served = new HashSet<string>(StringComparer.Ordinal);
        foreach (var apiVersion in required.Select(r => r.ApiVersion).Distinct(StringComparer.Ordinal))
        {
            var path = apiVersion.Contains('/', StringComparison.Ordinal) ? $"/apis/{apiVersion}" : $"/api/{apiVersion}";
            using var response = await transport.SendAsync(HttpMethod.Get, path, null, cancellationToken, HttpStatusCode.NotFound);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                continue;
            }

            var list = KubernetesJson.Deserialize<V1APIResourceList>(await response.Content.ReadAsStringAsync(cancellationToken));
            foreach (var resource in list.Resources ?? [])
            {
                served.Add($"{apiVersion} {resource.Name}");
            }
        }

        var refusal = ClusterRequirements.Refusal(gitVersion, required, r => served.Contains($"{r.ApiVersion} {r.Plural}"));
        return refusal is null ? gitVersion : throw new UnsupportedClusterException(refusal);
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
