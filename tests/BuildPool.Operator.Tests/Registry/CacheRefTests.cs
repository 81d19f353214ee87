using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Registry;
using k8s.Models;

namespace BuildPool.Operator.Tests.Registry;

public sealed class CacheRefTests
{
    [Theory]
    [InlineData("registry.example.test/cache/app:{key}", "registry.example.test", "cache/app", "{key}", false)]
    [InlineData("127.0.0.1:5000/cache/{key}", "127.0.0.1:5000", "cache/{key}", "latest", true)]
    [InlineData("registry.example.test:443/team/{key}:buildcache", "registry.example.test:443", "team/{key}", "buildcache", true)]
    [InlineData("localhost/cache/app", "localhost", "cache/app", null, false)]
    public void Refs_split_into_host_repository_and_tag(string text, string host, string repository, string? tag, bool keyInRepository)
    {
        Assert.True(CacheRef.TryParse(text, out var parsed, out var error), error);
        Assert.Equal((host, repository, tag, keyInRepository), (parsed.Host, parsed.RepositoryTemplate, parsed.TagTemplate, parsed.KeyInRepository));
    }

    [Theory]
    [InlineData("cache/app:{key}", "must start with the registry host")]
    [InlineData("{key}.example.test/cache/app", "not in the registry host")]
    [InlineData("registry.example.test/Cache/{key}", "must be lowercase")]
    [InlineData("registry.example.test/cache/app:v1", "without a tag")]
    [InlineData("registry.example.test/cache/app@sha256:abc", "has a digest")]
    public void Bad_refs_say_what_is_wrong(string text, string expected)
    {
        Assert.False(CacheRef.TryParse(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_in_the_tag_matches_only_tags_of_that_shape()
    {
        Assert.True(CacheRef.TryParse("registry.example.test/cache/app:cache-{key}", out var parsed, out _));
        Assert.True(parsed.MatchesTag("cache-main"));
        Assert.False(parsed.MatchesTag("latest"));
        Assert.False(parsed.MatchesTag("cache-"));
        Assert.True(parsed.MatchesRepository("cache/app"));
        Assert.False(parsed.MatchesRepository("cache/app2"));
    }

    [Fact]
    public void A_key_in_the_repository_matches_repositories_under_the_prefix()
    {
        Assert.True(CacheRef.TryParse("registry.example.test/cache/{key}", out var parsed, out _));
        Assert.Equal("cache/", parsed.RepositoryPrefix);
        Assert.True(parsed.MatchesRepository("cache/web"));
        Assert.False(parsed.MatchesRepository("other/web"));
        Assert.True(parsed.MatchesTag("latest"));
        Assert.False(parsed.MatchesTag("v1"));
    }

    private static RegistryCacheTarget Target(RegistryCacheTargetSpec spec) => new() { Metadata = new V1ObjectMeta { Name = "t", Generation = 1 }, Spec = spec };

    public static TheoryData<string, RegistryCacheTargetSpec, string> Invalid => new()
    {
        { "A ref without a key", new RegistryCacheTargetSpec { Ref = "registry.example.test/cache/app" }, "spec.ref: \"registry.example.test/cache/app\" must contain {key}" },
        { "An image manifest with Docker media types", new RegistryCacheTargetSpec { Ref = "registry.example.test/c:{key}", ImageManifest = true, OciMediatypes = false }, "spec.ociMediatypes: must be true" },
        { "A gzip level above 9", new RegistryCacheTargetSpec { Ref = "registry.example.test/c:{key}", CompressionLevel = 15 }, "spec.compressionLevel: 15 is outside 0-9 for gzip" },
        { "An unparsable maxAge", new RegistryCacheTargetSpec { Ref = "registry.example.test/c:{key}", Retention = new CacheRetentionPolicy { MaxAge = "2 weeks" } }, "spec.retention.maxAge: " },
        { "An unparsable maxBytes", new RegistryCacheTargetSpec { Ref = "registry.example.test/c:{key}", Retention = new CacheRetentionPolicy { MaxBytes = "lots" } }, "spec.retention.maxBytes: " },
        { "Retention over every repository of a registry", new RegistryCacheTargetSpec { Ref = "registry.example.test/{key}", Retention = new CacheRetentionPolicy { MaxTags = 5 } }, "spec.retention: needs a fixed repository directory" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_specs_are_reported_with_the_field(string name, RegistryCacheTargetSpec spec, string expected)
    {
        var errors = RegistryCacheTargetValidator.Validate(Target(spec), out _, out _);
        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{name}: {string.Join("; ", errors)}");
    }

    [Fact]
    public void A_valid_spec_has_no_errors_and_parsed_limits()
    {
        var errors = RegistryCacheTargetValidator.Validate(
            Target(new RegistryCacheTargetSpec { Ref = "registry.example.test/cache/{key}", Compression = CacheCompression.Zstd, CompressionLevel = 19, Retention = new CacheRetentionPolicy { MaxAge = "336h", MaxTags = 10, MaxBytes = "10Gi" } }),
            out var cacheRef,
            out var limits);
        Assert.Empty(errors);
        Assert.NotNull(cacheRef);
        Assert.Equal(new RetentionLimits(TimeSpan.FromHours(336), 10, 10L << 30), limits);
    }
}
