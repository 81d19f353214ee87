using System.Net;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Tests.Support;
using k8s.Models;

namespace BuildPool.Runtime.Tests.Client;

public sealed class TransportRetryTests
{
    private static ResourceClient<V1ConfigMap> Client(StubHandler handler) =>
        new(new KubernetesTransport(new HttpClient(handler), new Uri("http://api.test/")));

    [Fact]
    public async Task A_read_that_meets_a_transient_server_error_is_retried_until_it_succeeds()
    {
        var calls = 0;
        var handler = new StubHandler(_ => Interlocked.Increment(ref calls) < 3
            ? (HttpStatusCode.ServiceUnavailable, """{"kind":"Status","code":503}""")
            : (HttpStatusCode.OK, """{"metadata":{"name":"a","namespace":"ns"}}"""));

        var map = await Client(handler).GetAsync("ns", "a");

        Assert.Equal("a", map!.Metadata.Name);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task A_write_is_not_retried_because_it_may_have_happened()
    {
        var handler = new StubHandler(_ => (HttpStatusCode.InternalServerError, """{"kind":"Status","code":500,"message":"boom"}"""));

        var ex = await Assert.ThrowsAsync<KubernetesApiException>(() =>
            Client(handler).CreateAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a", NamespaceProperty = "ns" } }));

        Assert.Equal(HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task A_read_that_keeps_failing_surfaces_the_error_after_a_bounded_number_of_attempts()
    {
        var handler = new StubHandler(_ => (HttpStatusCode.TooManyRequests, """{"kind":"Status","code":429}"""));

        await Assert.ThrowsAsync<KubernetesApiException>(() => Client(handler).GetAsync("ns", "a"));

        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task Not_found_is_an_answer_not_a_failure_and_is_not_retried()
    {
        var handler = new StubHandler(_ => (HttpStatusCode.NotFound, """{"kind":"Status","code":404,"reason":"NotFound"}"""));

        Assert.Null(await Client(handler).GetAsync("ns", "a"));
        Assert.Single(handler.Requests);
    }
}
