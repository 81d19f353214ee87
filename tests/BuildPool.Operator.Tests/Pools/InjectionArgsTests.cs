using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Pools;

namespace BuildPool.Operator.Tests.Pools;

public sealed class InjectionArgsTests
{
    [Fact]
    public void A_targets_published_cache_to_becomes_the_gateways_injection_flags()
    {
        var args = BuilderPoolPlanner.InjectionArgs(new BuildxCacheFlags
        {
            CacheTo = "type=registry,ref=cache.internal:5000/cache/{key},mode=max,image-manifest=true,oci-mediatypes=true",
            CacheFrom = "type=registry,ref=cache.internal:5000/cache/{key}",
        });
        Assert.Equal(
            ["--inject-cache-ref", "cache.internal:5000/cache/{key}", "--inject-cache-attr", "image-manifest=true", "--inject-cache-attr", "oci-mediatypes=true"],
            args);
    }

    [Fact]
    public void A_managed_registrys_read_only_listener_becomes_the_ref_isolated_builds_import_from()
    {
        var args = BuilderPoolPlanner.InjectionArgs(
            new BuildxCacheFlags { CacheTo = "type=registry,ref=cache-registry.ci.svc:5000/cache/app:{key},mode=min" },
            readOnlyHost: "cache-registry.ci.svc:5001");
        Assert.Equal(
            ["--inject-cache-ref", "cache-registry.ci.svc:5000/cache/app:{key}", "--inject-cache-ref-untrusted", "cache-registry.ci.svc:5001/cache/app:{key}"],
            args);
    }

    [Fact]
    public void A_target_without_a_key_placeholder_or_without_flags_injects_nothing()
    {
        Assert.Empty(BuilderPoolPlanner.InjectionArgs(new BuildxCacheFlags { CacheTo = "type=registry,ref=cache.internal/shared,mode=max" }));
        Assert.Empty(BuilderPoolPlanner.InjectionArgs(null));
    }
}
