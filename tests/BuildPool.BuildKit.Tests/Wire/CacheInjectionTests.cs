using BuildPool.BuildKit.Protocol;
using BuildPool.BuildKit.Wire;
using Google.Protobuf;

namespace BuildPool.BuildKit.Tests.Wire;

public sealed class CacheInjectionTests
{
    private static SolveRequest Parse(byte[] bytes) => SolveRequest.Parser.ParseFrom(bytes);

    [Fact]
    public void A_solve_without_cache_options_gets_a_registry_export_and_import_and_keeps_everything_else()
    {
        var original = new SolveRequest { Ref = "r1", Session = "s1", Frontend = "dockerfile.v0", Exporters = { new Exporter { Type = "image", Attrs = { ["name"] = "team/app:1" } } } };
        var bytes = original.ToByteArray();
        Assert.False(CacheInjection.HasCacheOptions(bytes));

        var injected = Parse(CacheInjection.Inject(bytes, "registry.internal:5000/cache/team-app", new Dictionary<string, string> { ["image-manifest"] = "true" }));

        Assert.Equal("r1", injected.Ref);
        Assert.Equal("s1", injected.Session);
        Assert.Equal("team/app:1", injected.Exporters.Single().Attrs["name"]);
        var export = Assert.Single(injected.Cache.Exports);
        Assert.Equal("registry", export.Type);
        Assert.Equal("registry.internal:5000/cache/team-app", export.Attrs["ref"]);
        Assert.Equal("max", export.Attrs["mode"]);
        Assert.Equal("true", export.Attrs["image-manifest"]);
        Assert.Equal("registry.internal:5000/cache/team-app", Assert.Single(injected.Cache.Imports).Attrs["ref"]);
    }

    [Fact]
    public void A_solve_that_already_exports_a_cache_is_recognised_and_left_alone()
    {
        var request = new SolveRequest { Ref = "r", Cache = new CacheOptions { Exports = { new CacheOptionsEntry { Type = "local" } } } };
        Assert.True(CacheInjection.HasCacheOptions(request.ToByteArray()));
    }

    [Fact]
    public void Unknown_fields_of_the_original_request_survive_injection()
    {
        // Field 2 (the build definition) is not in our proto: it must pass through untouched.
        var definition = new byte[] { 0x12, 0x03, 0x01, 0x02, 0x03 };
        var bytes = new SolveRequest { Ref = "r" }.ToByteArray().Concat(definition).ToArray();
        var injected = CacheInjection.Inject(bytes, "reg/cache/x");
        Assert.Equal(bytes, injected.Take(bytes.Length));
        Assert.Equal("r", Parse(injected).Ref);
    }

    [Fact]
    public void Malformed_input_is_treated_as_having_no_cache_options_without_throwing() =>
        Assert.False(CacheInjection.HasCacheOptions([0x42, 0xFF, 0xFF]));
}
