using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Registry;

namespace BuildPool.Operator.Tests.Registry;

public sealed class BuildxFlagsRendererTests
{
    private const string Ref = "registry.example.test/cache/app:{key}";

    public static TheoryData<string, RegistryCacheTargetSpec, string> CacheTo => new()
    {
        {
            "Defaults give mode=min and leave BuildKit's defaults out",
            new RegistryCacheTargetSpec { Ref = Ref },
            $"type=registry,ref={Ref},mode=min"
        },
        {
            "Max mode with zstd and a level",
            new RegistryCacheTargetSpec { Ref = Ref, Mode = CacheExportMode.Max, Compression = CacheCompression.Zstd, CompressionLevel = 3 },
            $"type=registry,ref={Ref},mode=max,compression=zstd,compression-level=3"
        },
        {
            "An image manifest always comes with OCI media types",
            new RegistryCacheTargetSpec { Ref = Ref, Mode = CacheExportMode.Max, ImageManifest = true },
            $"type=registry,ref={Ref},mode=max,image-manifest=true,oci-mediatypes=true"
        },
        {
            "Docker media types are asked for explicitly",
            new RegistryCacheTargetSpec { Ref = Ref, OciMediatypes = false },
            $"type=registry,ref={Ref},mode=min,oci-mediatypes=false"
        },
        {
            "ignore-error comes last",
            new RegistryCacheTargetSpec { Ref = Ref, Mode = CacheExportMode.Max, Compression = CacheCompression.Estargz, ImageManifest = true, IgnoreError = true },
            $"type=registry,ref={Ref},mode=max,compression=estargz,image-manifest=true,oci-mediatypes=true,ignore-error=true"
        },
    };

    [Theory]
    [MemberData(nameof(CacheTo))]
    public void Cache_to_flag_is_rendered_as_buildx_takes_it(string name, RegistryCacheTargetSpec spec, string expected)
    {
        Assert.True(expected == BuildxFlagsRenderer.Render(spec).CacheTo, $"{name}: got {BuildxFlagsRenderer.Render(spec).CacheTo}");
    }

    [Fact]
    public void Cache_from_names_only_the_ref_with_the_key_left_for_the_client() =>
        Assert.Equal($"type=registry,ref={Ref}", BuildxFlagsRenderer.Render(new RegistryCacheTargetSpec { Ref = Ref, Mode = CacheExportMode.Max, ImageManifest = true }).CacheFrom);
}
