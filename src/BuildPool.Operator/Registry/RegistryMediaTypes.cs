namespace BuildPool.Operator.Registry;

/// <summary>Media types of the manifests and blobs a BuildKit registry cache consists of.</summary>
public static class RegistryMediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>The config of a BuildKit cache manifest (or the config entry of a cache index).</summary>
    public const string BuildKitCacheConfig = "application/vnd.buildkit.cacheconfig.v0";

    /// <summary>Annotation BuildKit puts on every layer descriptor of a cache export (RFC 3339).</summary>
    public const string CreatedAtAnnotation = "buildkit/createdat";

    /// <summary>Every manifest kind, for the Accept header: without them a registry may convert or refuse.</summary>
    public static readonly IReadOnlyList<string> Manifests = [OciIndex, OciManifest, DockerManifestList, DockerManifest];

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;
}
