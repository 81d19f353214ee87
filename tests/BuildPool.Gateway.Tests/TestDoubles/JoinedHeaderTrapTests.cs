using System.Net;
using System.Net.Http.Headers;
using BuildPool.TestDoubles;

namespace BuildPool.Gateway.Tests.TestDoubles;

/// <summary>
/// The reason the gateway has its own HTTP/2 client, shown against the double: .NET's HttpClient
/// sends a repeated request header as one comma-joined field, and the fake builder (like buildkitd)
/// then sees one unusable method name instead of four.
/// </summary>
public sealed class JoinedHeaderTrapTests
{
    [Fact]
    public async Task A_session_sent_through_HttpClient_reaches_the_builder_as_one_joined_method_field()
    {
        await using var builder = await FakeBuildKitDaemon.StartAsync("worker", "builder-0");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{builder.EndPoint.Host}:{builder.EndPoint.Port}/moby.buildkit.v1.Control/Session")
        {
            // h2c with prior knowledge, as gRPC clients speak to buildkitd.
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            // One empty BytesMessage, then the end of the stream: enough for the builder to register the session.
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation(FakeBuilds.SessionUuidHeader, "session-1");
        request.Headers.TryAddWithoutValidation(FakeBuilds.SessionMethodHeader, FakeBuildxOptions.DefaultSessionMethods);

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        var session = Assert.Single(builder.Builds.Sessions);
        var method = Assert.Single(session.Methods);
        Assert.Contains(",", method, StringComparison.Ordinal);
        Assert.False(session.ExposesFileSync);
    }
}
