using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Pools;
using k8s.Models;

namespace BuildPool.Operator.Tests.Pools;

public sealed class BuilderPoolValidatorTests
{
    private static BuilderPool Valid() => new() { Metadata = new V1ObjectMeta { Name = "ci", NamespaceProperty = "ns" } };

    public static TheoryData<string, Action<BuilderPool>, string> Invalid() => new()
    {
        { "more warm builders than volumes", p => { p.Spec.Assignment.Volumes = 2; p.Spec.Scaling.WarmBuilders = 3; }, "spec.scaling.warmBuilders" },
        { "maxVolumes below volumes", p => { p.Spec.Assignment.Volumes = 8; p.Spec.Assignment.MaxVolumes = 4; }, "spec.assignment.maxVolumes" },
        { "a size that is not a quantity", p => p.Spec.Cache.Volume.Size = "lots", "spec.cache.volume.size" },
        { "a zero size", p => p.Spec.Cache.Volume.Size = "0", "spec.cache.volume.size" },
        { "maxUsedSpace above the volume", p => { p.Spec.Cache.Volume.Size = "10Gi"; p.Spec.Cache.Gc.MaxUsedSpace = "20Gi"; }, "spec.cache.gc.maxUsedSpace" },
        { "a percentage above 100", p => p.Spec.Cache.Gc.MinFreeSpace = "150%", "spec.cache.gc.minFreeSpace" },
        { "an idle timeout that is not a duration", p => p.Spec.Scaling.IdleTimeout = "soon", "spec.scaling.idleTimeout" },
        { "a repeated key source", p => p.Spec.Routing.KeySources = [RoutingKeySource.ImageName, RoutingKeySource.ImageName], "spec.routing.keySources" },
        { "FromSecret TLS without a secret", p => p.Spec.Endpoint.Tls = new EndpointTlsSpec { Mode = TlsMode.FromSecret }, "spec.endpoint.tls.secretName" },
        { "a cache mount rule with a bad duration", p => p.Spec.Cache.CacheMounts = [new CacheMountRule { Id = "npm", KeepDuration = "1 week" }], "spec.cache.cacheMounts[0].keepDuration" },
        { "auto-grow smaller than the volume", p => p.Spec.Cache.AutoGrow = new AutoGrowPolicy { MaxSize = "1Gi" }, "spec.cache.autoGrow.maxSize" },
        { "a pool name too long for builder Service names", p => p.Metadata.Name = new string('a', 60), "metadata.name" },
    };

    [Fact]
    public void The_default_pool_is_valid() => Assert.Empty(BuilderPoolValidator.Validate(Valid()));

    [Theory]
    [MemberData(nameof(Invalid))]
    public void An_invalid_pool_is_reported_with_the_field_first(string because, Action<BuilderPool> breakIt, string field)
    {
        ArgumentNullException.ThrowIfNull(breakIt);
        var pool = Valid();
        breakIt(pool);
        var errors = BuilderPoolValidator.Validate(pool);
        Assert.True(errors.Count == 1, $"{because}: expected one error, got [{string.Join("; ", errors)}]");
        Assert.StartsWith(field + ":", errors[0], StringComparison.Ordinal);
    }
}
