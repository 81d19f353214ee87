using BuildPool.Api.V1Alpha1;
using BuildPool.LocalApi;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// What a real cluster does to a controller reading from a cache: the object it finalizes is
/// already gone, and the object whose status it writes changed since the cache saw it. Both are
/// routine, so neither may fail the reconcile (an error log and a retry with backoff).
/// </summary>
public sealed class QuietRetryTests : IAsyncLifetime
{
    private const string Ns = "default";
    private const string Finalizer = "buildpool.dev/test";
    private LocalApiServer _server = null!;
    private Kubernetes _client = null!;
    private ResourceClient<BuilderPool> _pools = null!;

    public async Task InitializeAsync()
    {
        _server = new LocalApiServer(new LocalApiOptions { CrdDirectory = RepositoryPaths.Crds });
        await _server.StartAsync();
        _client = _server.CreateClient();
        _pools = new ResourceClient<BuilderPool>(_client);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private Task<BuilderPool> CreateAsync(string name, params string[] finalizers) => _pools.CreateAsync(new BuilderPool
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns, Finalizers = finalizers.Length == 0 ? null : finalizers },
    });

    [Fact]
    public async Task Removing_a_finalizer_from_an_object_that_is_already_gone_succeeds()
    {
        await CreateAsync("gone", Finalizer);
        await _pools.DeleteAsync(Ns, "gone");
        var cached = (await _pools.GetAsync(Ns, "gone"))!;
        Assert.NotNull(cached.Metadata.DeletionTimestamp);
        // Another worker (or an earlier attempt whose answer was lost) removed it first: the object is gone.
        await _pools.PatchAsync(Ns, "gone", new { metadata = new { finalizers = Array.Empty<string>() } });
        Assert.Null(await _pools.GetAsync(Ns, "gone"));

        var result = await _pools.RemoveFinalizerAsync(cached, Finalizer);

        Assert.Same(cached, result);
    }

    [Fact]
    public async Task A_status_write_from_a_stale_read_is_written_again_at_the_latest_version()
    {
        var stale = await CreateAsync("stale");
        // A label changes the resourceVersion but not the spec the status is computed from.
        await _pools.PatchAsync(Ns, "stale", new { metadata = new { labels = new Dictionary<string, string> { ["team"] = "a" } } });
        stale.Status = new BuilderPoolStatus { ObservedGeneration = stale.Metadata.Generation, Volumes = 3 };

        var written = await _pools.ReplaceStatusAsync(stale);

        Assert.Equal(3, written.Status.Volumes);
        var stored = (await _pools.GetAsync(Ns, "stale"))!;
        Assert.Equal(3, stored.Status.Volumes);
        Assert.Equal("a", stored.Metadata.Labels["team"]);
    }

    [Fact]
    public async Task A_status_computed_for_an_older_spec_is_not_written_over_the_new_one()
    {
        var stale = await CreateAsync("changed");
        await _pools.PatchAsync(Ns, "changed", new { spec = new { scaling = new { warmBuilders = 2 } } });
        stale.Status = new BuilderPoolStatus { ObservedGeneration = stale.Metadata.Generation, Volumes = 3 };

        await Assert.ThrowsAsync<ConflictException>(() => _pools.ReplaceStatusAsync(stale));

        Assert.NotEqual(3, (await _pools.GetAsync(Ns, "changed"))!.Status?.Volumes);
    }
}
