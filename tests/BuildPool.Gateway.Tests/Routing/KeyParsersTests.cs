using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Tests.Routing;

public sealed class KeyParsersTests
{
    [Theory]
    [InlineData("proj-a.builds.example.test", "builds.example.test", "proj-a")]
    [InlineData("proj-a.builds.example.test:1234", "builds.example.test", "proj-a")]
    [InlineData("Proj-A.Builds.Example.Test.", "builds.example.test", "proj-a")]
    [InlineData("x.proj-a.builds.example.test", "builds.example.test", "x")]
    [InlineData("proj-a.builds.example.test", ".builds.example.test.", "proj-a")]
    [InlineData("localhost", "builds.example.test", null)]
    [InlineData("localhost:1234", "builds.example.test", null)]
    [InlineData("builds.example.test", "builds.example.test", null)]
    [InlineData("proj-abuilds.example.test", "builds.example.test", null)]
    [InlineData(".builds.example.test", "builds.example.test", null)]
    [InlineData("proj-a.other.test", "builds.example.test", null)]
    [InlineData("[::1]:1234", "builds.example.test", null)]
    [InlineData("10.0.0.1:1234", "builds.example.test", null)]
    [InlineData("proj-a.builds.example.test", null, null)]
    [InlineData(null, "builds.example.test", null)]
    public void Authority_key_is_the_first_label_under_the_routing_domain(string? host, string? domain, string? expected)
    {
        Assert.Equal(expected, KeyParsers.FromAuthority(host, domain));
    }

    [Theory]
    [InlineData("proj-a", "proj-a")]
    [InlineData("  proj-a ", "proj-a")]
    [InlineData("CN=proj-a, O=ci, C=DE", "proj-a")]
    [InlineData("O=ci, cn=proj-b", "proj-b")]
    [InlineData("O=ci", null)]
    [InlineData("spiffe://example.test/ns/ci/sa/proj-a", "spiffe://example.test/ns/ci/sa/proj-a")]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Client_identity_key_is_the_common_name_or_uri(string? identity, string? expected)
    {
        Assert.Equal(expected, KeyParsers.FromClientIdentity(identity));
    }

    [Theory]
    [InlineData("myapp:abc123def4567890", "myapp")]
    [InlineData("my:app:abc123def4567890", "my:app")]
    [InlineData("myapp:", "myapp")]
    [InlineData("myapp", "myapp")]
    [InlineData(":abc123def4567890", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Session_directory_is_the_shared_key_without_its_node_id(string? sharedKey, string? expected)
    {
        Assert.Equal(expected, KeyParsers.FromSessionSharedKey(sharedKey));
    }
}
