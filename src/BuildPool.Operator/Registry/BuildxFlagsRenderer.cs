using System.Globalization;
using System.Text;
using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Registry;

/// <summary>
/// The <c>--cache-to</c>/<c>--cache-from</c> values for a target, as buildx takes them. Options
/// equal to BuildKit's defaults are left out (gzip, oci-mediatypes=true), except that
/// image-manifest=true always comes with oci-mediatypes=true: BuildKit needs both, and registries
/// that reject cache indexes (ECR, some Artifactory setups) need image-manifest.
/// </summary>
public static class BuildxFlagsRenderer
{
    public static BuildxCacheFlags Render(RegistryCacheTargetSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Render(spec, spec.Ref);
    }

    /// <summary>
    /// The flags for <paramref name="reference"/> (a managed target's in-cluster ref). Never
    /// <c>registry.insecure=true</c> for a managed registry: BuildKit then replaces the host's
    /// whole configuration with plain HTTP and presents no client certificate, and the registry
    /// takes no connection without one. The builders' <c>buildkitd.toml</c> has the registry's
    /// CA and client keypair.
    /// </summary>
    public static BuildxCacheFlags Render(RegistryCacheTargetSpec spec, string reference)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var to = new StringBuilder($"type=registry,ref={reference},mode={(spec.Mode == CacheExportMode.Max ? "max" : "min")}");
        if (spec.Compression != CacheCompression.Gzip)
        {
            to.Append(",compression=").Append(spec.Compression switch
            {
                CacheCompression.Zstd => "zstd",
                CacheCompression.Estargz => "estargz",
                _ => "gzip",
            });
        }

        if (spec.CompressionLevel is { } level)
        {
            to.Append(",compression-level=").Append(level.ToString(CultureInfo.InvariantCulture));
        }

        if (spec.ImageManifest)
        {
            to.Append(",image-manifest=true,oci-mediatypes=true");
        }
        else if (!spec.OciMediatypes)
        {
            to.Append(",oci-mediatypes=false");
        }

        if (spec.IgnoreError)
        {
            to.Append(",ignore-error=true");
        }

        return new BuildxCacheFlags { CacheTo = to.ToString(), CacheFrom = $"type=registry,ref={reference}" };
    }
}
