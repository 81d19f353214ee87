using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Tests.Routing;

public sealed class KeyExtractorTests
{
    private static readonly KeyInputs Everything = new()
    {
        Authority = "proj-auth.builds.example.test",
        ServerName = "proj-sni.builds.example.test",
        ClientIdentity = "CN=proj-cert",
        Solve = new SolveRequestFields("ref", "sess", "registry.test/proj-image", "registry.test/cache/proj-cache"),
        SessionSharedKey = "proj-dir:0123456789abcdef",
    };

    public static TheoryData<RoutingKeySource[], KeyInputs, RoutingKey?> Cases => new()
    {
        { [.. KeyExtractor.DefaultSources], Everything, new RoutingKey("proj-auth", RoutingKeySource.Authority) },
        { [.. KeyExtractor.DefaultSources], Everything with { Authority = "localhost" }, new RoutingKey("proj-sni", RoutingKeySource.Authority) },
        { [.. KeyExtractor.DefaultSources], Everything with { Authority = "localhost", ServerName = null }, new RoutingKey("proj-cert", RoutingKeySource.ClientCertificate) },
        { [.. KeyExtractor.DefaultSources], Everything with { Authority = null, ServerName = null, ClientIdentity = null }, new RoutingKey("registry.test/proj-image", RoutingKeySource.ImageName) },
        { [.. KeyExtractor.DefaultSources], new KeyInputs { Solve = new SolveRequestFields("r", "s", null, "c/x") }, new RoutingKey("c/x", RoutingKeySource.CacheRef) },
        { [.. KeyExtractor.DefaultSources], new KeyInputs { Authority = "localhost", SessionSharedKey = "app:00ff" }, new RoutingKey("app", RoutingKeySource.SessionDirectory) },
        { [RoutingKeySource.SessionDirectory, RoutingKeySource.ImageName], Everything, new RoutingKey("proj-dir", RoutingKeySource.SessionDirectory) },
        { [RoutingKeySource.CacheRef], Everything with { Solve = default }, null },
        { [.. KeyExtractor.DefaultSources], new KeyInputs { Authority = "localhost" }, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_first_configured_source_with_a_key_wins(RoutingKeySource[] sources, KeyInputs inputs, RoutingKey? expected)
    {
        var extractor = new KeyExtractor(sources, "builds.example.test");

        var found = extractor.TryExtract(inputs, out var key);

        Assert.Equal(expected.HasValue, found);
        if (expected.HasValue)
        {
            Assert.Equal(expected.Value, key);
        }
    }

    [Fact]
    public void Without_a_routing_domain_the_authority_yields_no_key()
    {
        var extractor = new KeyExtractor(KeyExtractor.DefaultSources, domain: null);

        Assert.True(extractor.TryExtract(Everything, out var key));
        Assert.Equal(RoutingKeySource.ClientCertificate, key.Source);
    }

    [Fact]
    public void Key_sources_have_the_same_names_as_the_api_enum()
    {
        Assert.Equal(
            ["Authority", "ClientCertificate", "ImageName", "CacheRef", "SessionDirectory"],
            Enum.GetNames<RoutingKeySource>());
    }
}
