using System.Net;
using System.Text.Json.Nodes;
using BuildPool.Runtime.Client;
using BuildPool.Runtime.Tests.Support;
using k8s;
using k8s.Models;

namespace BuildPool.Runtime.Tests.Client;

public sealed class FinalizersTests
{
    private readonly List<JsonNode?> _patches = [];

    [Fact]
    public async Task Adding_a_finalizer_keeps_the_others_and_makes_the_write_conditional_on_the_read()
    {
        var client = Client();
        var map = Objects.ConfigMap("a", "7", ns: "ns");
        map.Metadata.Finalizers = ["example.com/other"];

        var written = await client.AddFinalizerAsync(map, "example.com/mine");

        var patch = Assert.Single(_patches)!["metadata"]!;
        Assert.Equal(["example.com/other", "example.com/mine"], patch["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("7", patch["resourceVersion"]!.GetValue<string>());
        Assert.Equal("8", written.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Removing_a_finalizer_leaves_the_others_in_place()
    {
        var client = Client();
        var map = Objects.ConfigMap("a", "7", ns: "ns");
        map.Metadata.Finalizers = ["example.com/mine", "example.com/other"];

        await client.RemoveFinalizerAsync(map, "example.com/mine");

        var patch = Assert.Single(_patches)!["metadata"]!;
        Assert.Equal(["example.com/other"], patch["finalizers"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("7", patch["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_object_that_already_has_the_finalizer_or_lacks_it_for_removal_is_not_written()
    {
        var client = Client();
        var has = Objects.ConfigMap("a", "7", ns: "ns");
        has.Metadata.Finalizers = ["example.com/mine"];
        var lacks = Objects.ConfigMap("b", "7", ns: "ns");

        Assert.Same(has, await client.AddFinalizerAsync(has, "example.com/mine"));
        Assert.Same(lacks, await client.RemoveFinalizerAsync(lacks, "example.com/mine"));
        Assert.Empty(_patches);
    }

    [Fact]
    public async Task A_stale_read_makes_the_finalizer_write_a_conflict()
    {
        var handler = new StubHandler(_ => (HttpStatusCode.Conflict, """{"kind":"Status","reason":"Conflict","code":409,"message":"the object has been modified"}"""));
        var client = new ResourceClient<V1ConfigMap>(new KubernetesTransport(new HttpClient(handler), new Uri("http://api.test")));

        await Assert.ThrowsAsync<ConflictException>(() => client.AddFinalizerAsync(Objects.ConfigMap("a", "7", ns: "ns"), "example.com/mine"));
    }

    private ResourceClient<V1ConfigMap> Client()
    {
        var handler = new StubHandler(request =>
        {
            var body = JsonNode.Parse(request.Content!.ReadAsStream());
            _patches.Add(body);
            return (HttpStatusCode.OK, """{"metadata":{"name":"a","namespace":"ns","resourceVersion":"8"}}""");
        });
        return new ResourceClient<V1ConfigMap>(new KubernetesTransport(new HttpClient(handler), new Uri("http://api.test")));
    }
}
