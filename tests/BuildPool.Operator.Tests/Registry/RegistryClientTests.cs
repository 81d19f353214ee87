using System.Net;
using System.Net.Sockets;
using BuildPool.Operator.Registry;

namespace BuildPool.Operator.Tests.Registry;

public sealed class RegistryClientTests
{
    private static readonly DateTimeOffset Pushed = new(2026, 2, 20, 8, 30, 0, TimeSpan.Zero);

    private static RegistryClient Client(FakeRegistry registry, string? user = FakeRegistry.User, string password = FakeRegistry.Password) =>
        new(new Uri($"http://{registry.Host}"), user is null ? null : new RegistryCredentials(user, password));

    [Fact]
    public async Task Bearer_challenge_fetches_a_token_with_the_credentials_and_reuses_it_per_scope()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Bearer);
        registry.Push("cache/app", "main", TestCache.Create(Pushed, [10], seed: 1));
        using var client = Client(registry);

        Assert.Equal(["main"], await client.ListTagsAsync("cache/app"));
        Assert.NotNull(await client.GetManifestAsync("cache/app", "main"));

        Assert.Equal(["repository:cache/app:pull"], registry.TokenScopes);
        Assert.Equal(1, registry.Requests.Count(r => r.EndsWith(" Bearer", StringComparison.Ordinal) && r.Contains("/manifests/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Deletes_ask_the_token_service_for_the_delete_scope()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Bearer);
        var cache = TestCache.Create(Pushed, [10], seed: 1);
        registry.Push("cache/app", "main", cache);
        using var client = Client(registry);

        Assert.True(await client.DeleteManifestAsync("cache/app", cache.Digest));
        Assert.Contains("repository:cache/app:delete", registry.TokenScopes);
        Assert.Empty(registry.TagsOf("cache/app"));
    }

    [Fact]
    public async Task A_wrong_password_at_the_token_service_is_Unauthorized_with_its_message()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Bearer);
        using var client = Client(registry, password: "wrong");

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync());
        Assert.Equal(RegistryErrorKind.Unauthorized, ex.Kind);
        Assert.Contains("user \"ci\"", ex.Message, StringComparison.Ordinal);
        Assert.Contains("incorrect username or password", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Basic_challenge_is_answered_with_the_credentials_and_later_requests_send_them_directly()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Basic);
        registry.Push("cache/app", "main", TestCache.Create(Pushed, [10], seed: 1));
        using var client = Client(registry);

        await client.PingAsync();
        Assert.Equal(["main"], await client.ListTagsAsync("cache/app"));
        Assert.Equal(["GET /v2/", "GET /v2/ Basic", "GET /v2/cache/app/tags/list?n=100 Basic"], registry.Requests);
    }

    [Fact]
    public async Task No_credentials_against_a_registry_that_wants_them_is_Unauthorized_with_the_registry_message()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Basic);
        using var client = Client(registry, user: null);

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync());
        Assert.Equal(RegistryErrorKind.Unauthorized, ex.Kind);
        Assert.Contains("UNAUTHORIZED: authentication required", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no credentials given", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_closed_port_is_Unreachable()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        using var client = new RegistryClient(new Uri($"http://127.0.0.1:{port}"));
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.PingAsync());
        Assert.Equal(RegistryErrorKind.Unreachable, ex.Kind);
        Assert.Contains("connection refused", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_405_on_delete_is_DeleteDisabled_with_the_setting_to_change()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var cache = TestCache.Create(Pushed, [10], seed: 1);
        registry.Push("cache/app", "main", cache);
        registry.DeleteEnabled = false;
        using var client = Client(registry, user: null);

        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.DeleteManifestAsync("cache/app", cache.Digest));
        Assert.Equal(RegistryErrorKind.DeleteDisabled, ex.Kind);
        Assert.Contains("REGISTRY_STORAGE_DELETE_ENABLED=true", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tag_lists_follow_Link_pages()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var cache = TestCache.Create(Pushed, [10], seed: 1);
        foreach (var i in Enumerable.Range(0, 7))
        {
            registry.Push("cache/app", $"t{i}", cache);
        }

        registry.PageSize = 3;
        using var client = Client(registry, user: null);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"t{i}"), await client.ListTagsAsync("cache/app"));
        Assert.Equal(3, registry.Requests.Count(r => r.Contains("/tags/list", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_repository_the_registry_does_not_know_has_no_tags()
    {
        await using var registry = await FakeRegistry.StartAsync();
        using var client = Client(registry, user: null);
        Assert.Empty(await client.ListTagsAsync("cache/none"));
    }

    [Fact]
    public async Task Heads_resolve_a_tag_to_its_digest_with_every_manifest_type_accepted()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var cache = TestCache.Create(Pushed, [10], seed: 1, index: true);
        registry.Push("cache/app", "main", cache);
        using var client = Client(registry, user: null);

        Assert.Equal(cache.Digest, await client.ResolveDigestAsync("cache/app", "main"));
        Assert.Null(await client.ResolveDigestAsync("cache/app", "gone"));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task A_cache_tag_is_dated_by_buildkit_createdat_or_its_config_and_sized_by_its_blobs(bool index, bool annotate)
    {
        await using var registry = await FakeRegistry.StartAsync();
        var cache = TestCache.Create(Pushed, [1000, 2000, 3000], seed: 1, index: index, annotate: annotate);
        registry.Push("cache/app", "main", cache);
        using var client = Client(registry, user: null);

        var tag = await new CacheTagReader(client).ReadAsync("cache/app", "main", CancellationToken.None);
        Assert.NotNull(tag);
        Assert.Equal(Pushed, tag.CreatedAt);
        Assert.Equal(cache.Digest, tag.Digest);
        Assert.Equal(cache.Bytes, tag.Bytes);
        Assert.Equal(4, tag.Blobs.Count);
    }

    [Fact]
    public async Task The_newest_layer_date_is_the_cache_age()
    {
        var older = TestBlob.Layer(100, 7, Pushed.AddDays(-30));
        var cache = TestCache.Create(Pushed, [100], seed: 2, shared: [older]);
        await using var registry = await FakeRegistry.StartAsync();
        registry.Push("cache/app", "main", cache);
        using var client = Client(registry, user: null);

        var tag = await new CacheTagReader(client).ReadAsync("cache/app", "main", CancellationToken.None);
        Assert.Equal(Pushed, tag!.CreatedAt);
    }

    [Fact]
    public void Challenges_parse_quoted_and_bare_parameters()
    {
        var challenge = AuthChallenge.Parse("Bearer realm=\"https://auth.example.test/token\",service=registry.example.test,scope=\"repository:a/b:pull,push\"");
        Assert.NotNull(challenge);
        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.example.test/token", challenge.Realm);
        Assert.Equal("registry.example.test", challenge.Service);
        Assert.Equal("repository:a/b:pull,push", challenge.Scope);
        Assert.True(AuthChallenge.Parse("Basic realm=\"Registry Realm\"")!.IsBasic);
    }
}
