namespace BuildPool.Api.Schema;

/// <summary>
/// Regular expressions shared by the API types, so the same field kinds validate the same way
/// in every CRD.
/// </summary>
public static class Patterns
{
    /// <summary>A Go duration without sign, as Kubernetes tools write them: <c>90s</c>, <c>30m</c>, <c>1h30m</c>.</summary>
    public const string Duration = @"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";

    /// <summary>A non-negative Kubernetes quantity: <c>100Gi</c>, <c>500M</c>, <c>1073741824</c>.</summary>
    public const string Quantity = @"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[kMGTPE]|[eE][0-9]+)?$";

    /// <summary>A whole percentage from 0% to 100%.</summary>
    public const string Percent = @"^([0-9]|[1-9][0-9]|100)%$";

    /// <summary>A Kubernetes quantity or a whole percentage of the volume size.</summary>
    public const string QuantityOrPercent = @"^(([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[kMGTPE]|[eE][0-9]+)?|([0-9]|[1-9][0-9]|100)%)$";

    /// <summary>An RFC 1123 DNS subdomain: names of Kubernetes objects and DNS domains.</summary>
    public const string DnsSubdomain = @"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

    /// <summary>An RFC 1123 DNS label: namespaces and names used inside other names.</summary>
    public const string DnsLabel = @"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

    /// <summary>A registry host with optional port, as it appears in <c>buildkitd.toml</c>.</summary>
    public const string RegistryHost = @"^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]{1,5})?$";

    /// <summary>An OCI platform: <c>os/arch</c> with an optional variant.</summary>
    public const string Platform = @"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$";

    /// <summary>
    /// A container image reference without digest requirements; the host part is optional
    /// (Docker Hub by default).
    /// </summary>
    public const string Image = @"^[a-zA-Z0-9][a-zA-Z0-9._:/@-]*$";

    /// <summary>A cache ref template: an image reference that contains the <c>{key}</c> placeholder.</summary>
    public const string CacheRefTemplate = @"^[a-zA-Z0-9][a-zA-Z0-9._:/@-]*\{key\}[a-zA-Z0-9._:/@{}-]*$";
}
