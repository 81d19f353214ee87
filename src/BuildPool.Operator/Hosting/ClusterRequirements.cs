using System.Globalization;
using System.Text.RegularExpressions;
using BuildPool.Api.Schema;
using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Hosting;

/// <summary>
/// What the operator needs of an API server before it starts anything: at least
/// <see cref="SupportedKubernetes.Minimum"/>, and every resource it watches or writes served
/// under the version it calls. Deciding this up front is what keeps a too-old cluster from
/// getting a half-started manager (some controllers running, one waiting forever on an informer
/// whose API answers 404).
/// </summary>
public static partial class ClusterRequirements
{
    /// <summary>The built-in resources the operator watches or writes, at the versions it calls.</summary>
    public static IReadOnlyList<ResourceDescriptor> BuiltIn { get; } =
    [
        ResourceDescriptor.For<V1Deployment>(),
        ResourceDescriptor.For<V1Pod>(),
        ResourceDescriptor.For<V1Service>(),
        ResourceDescriptor.For<V1ServiceAccount>(),
        ResourceDescriptor.For<V1Secret>(),
        ResourceDescriptor.For<V1ConfigMap>(),
        ResourceDescriptor.For<V1PersistentVolumeClaim>(),
        ResourceDescriptor.For<Corev1Event>(),
        ResourceDescriptor.For<V1Role>(),
        ResourceDescriptor.For<V1RoleBinding>(),
        ResourceDescriptor.For<V1PodDisruptionBudget>(),
        ResourceDescriptor.For<V1NetworkPolicy>(),
        ResourceDescriptor.For<V1Lease>(),
        ResourceDescriptor.For<V1StorageClass>(),
    ];

    /// <summary>The project's own kinds: served once its CRDs are installed.</summary>
    public static IReadOnlyList<ResourceDescriptor> Custom { get; } =
    [
        ResourceDescriptor.For<BuilderPool>(),
        ResourceDescriptor.For<CacheVolume>(),
        ResourceDescriptor.For<SecretBinding>(),
        ResourceDescriptor.For<RegistryCacheTarget>(),
    ];

    /// <summary>
    /// One line saying why the operator must not start on this server, or <c>null</c> when it can.
    /// </summary>
    /// <param name="gitVersion">The server's <c>/version</c> <c>gitVersion</c>, e.g. <c>v1.20.2</c> or <c>v1.29.3-gke.1</c>.</param>
    /// <param name="required">The resources to look for (<see cref="BuiltIn"/>, plus <see cref="Custom"/> once the CRDs should be there).</param>
    /// <param name="served">Whether discovery lists a resource under its group and version.</param>
    public static string? Refusal(string gitVersion, IEnumerable<ResourceDescriptor> required, Func<ResourceDescriptor, bool> served)
    {
        ArgumentNullException.ThrowIfNull(required);
        ArgumentNullException.ThrowIfNull(served);
        var version = ParseVersion(gitVersion);
        if (version is null)
        {
            return $"cannot read the Kubernetes version '{gitVersion}'; BuildPool needs Kubernetes {SupportedKubernetes.MinimumText} or later";
        }

        var missing = required.Where(r => !served(r)).Select(r => $"{r.ApiVersion} {r.Plural}").ToList();
        if (version < SupportedKubernetes.Minimum)
        {
            var also = missing.Count == 0 ? "" : $" (it does not serve {string.Join(", ", missing)})";
            return $"Kubernetes {gitVersion} is too old: BuildPool needs Kubernetes {SupportedKubernetes.MinimumText} or later{also}";
        }

        if (missing.Count == 0)
        {
            return null;
        }

        var crdsMissing = Custom.Any(c => !served(c));
        var hint = crdsMissing ? "; install the CRDs first (kubectl apply -k config/crd)" : "";
        return $"Kubernetes {gitVersion} does not serve {string.Join(", ", missing)}, which BuildPool needs{hint}";
    }

    /// <summary>Major and minor from a gitVersion (<c>v1.29.3-eks-1</c> → 1.29); <c>null</c> when there are none.</summary>
    public static Version? ParseVersion(string? gitVersion)
    {
        var match = gitVersion is null ? null : VersionPattern().Match(gitVersion);
        return match is { Success: true }
            ? new Version(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture))
            : null;
    }

    [GeneratedRegex(@"^v?(\d+)\.(\d+)")]
    private static partial Regex VersionPattern();
}
