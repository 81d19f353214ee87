using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Desired state of a RegistryCacheTarget.</summary>
[ValidationRule("!self.imageManifest || self.ociMediatypes", "spec.ociMediatypes must be true when spec.imageManifest is true: BuildKit writes image-manifest caches with OCI media types only")]
[ValidationRule("!has(self.compressionLevel) || self.compression == 'zstd' || self.compressionLevel <= 9", "spec.compressionLevel must be 0-9 for gzip and estargz (0-22 for zstd)")]
public sealed class RegistryCacheTargetSpec
{
    /// <summary>
    /// Image reference template of the cache; {key} is replaced by the build's routing key,
    /// for example &lt;registry&gt;/cache/app:{key} or &lt;registry&gt;/cache/{key}.
    /// </summary>
    [Required]
    [Pattern(Patterns.CacheRefTemplate)]
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("ref")]
    public string Ref { get; set; } = "";

    /// <summary>min exports the final image's layers; max exports intermediate layers too.</summary>
    [Default("\"min\"")]
    [JsonPropertyName("mode")]
    public CacheExportMode Mode { get; set; } = CacheExportMode.Min;

    /// <summary>Compression of exported layers.</summary>
    [Default("\"gzip\"")]
    [JsonPropertyName("compression")]
    public CacheCompression Compression { get; set; } = CacheCompression.Gzip;

    /// <summary>Compression level; its range depends on the compression (gzip 0-9, zstd 0-22). Unset means the compressor default.</summary>
    [Minimum(0)]
    [Maximum(22)]
    [JsonPropertyName("compressionLevel")]
    public int? CompressionLevel { get; set; }

    /// <summary>Export the cache as an OCI image manifest instead of an index (image-manifest=true), for registries that reject cache indexes.</summary>
    [Default("false")]
    [JsonPropertyName("imageManifest")]
    public bool ImageManifest { get; set; }

    /// <summary>Use OCI media types in the exported manifests (oci-mediatypes).</summary>
    [Default("true")]
    [JsonPropertyName("ociMediatypes")]
    public bool OciMediatypes { get; set; } = true;

    /// <summary>Do not fail the build when the cache export fails (ignore-error).</summary>
    [Default("false")]
    [JsonPropertyName("ignoreError")]
    public bool IgnoreError { get; set; }

    /// <summary>
    /// Name of a SecretBinding the operator uses to reach the registry for garbage collection
    /// and reachability checks. Builds push the cache with the client's own credentials.
    /// </summary>
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("credentials")]
    public string? Credentials { get; set; }

    /// <summary>Garbage collection of old cache tags through the registry API. Unset keeps every tag.</summary>
    [JsonPropertyName("retention")]
    public CacheRetentionPolicy? Retention { get; set; }

    /// <summary>Run an in-cluster registry for this target; ref's registry host is then ignored.</summary>
    [Default("false")]
    [JsonPropertyName("managed")]
    public bool Managed { get; set; }
}
