using BuildPool.BuildKit.Client;
using BuildPool.BuildKit.Protocol;
using BuildPool.TestDoubles;
using Grpc.Core;

namespace BuildPool.BuildKit.Tests;

public sealed class BuildKitClientTests : IAsyncLifetime
{
    private FakeBuildKitDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await FakeBuildKitDaemon.StartAsync("worker-a");

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private BuildKitClient Client(int retries = 3) =>
        new(_daemon.Address, new BuildKitClientOptions { MaxRetryAttempts = retries, RetryBaseDelay = TimeSpan.FromMilliseconds(1) });

    [Fact]
    public async Task ListWorkers_returns_the_daemons_worker_and_version()
    {
        using var client = Client();
        var workers = await client.ListWorkersAsync();
        var worker = Assert.Single(workers);
        Assert.Equal("worker-a", worker.ID);
        Assert.Equal("v0.17.3", worker.BuildkitVersion.Version);
        Assert.Equal("v0.17.3", (await client.InfoAsync()).Version);
    }

    [Fact]
    public async Task Transient_unavailable_is_retried_until_the_daemon_answers()
    {
        _daemon.Daemon.TransientFailures = 2;
        using var client = Client(retries: 3);
        Assert.Single(await client.ListWorkersAsync());
        Assert.Equal(3, _daemon.Daemon.Calls.Count(c => c == "ListWorkers"));
    }

    [Fact]
    public async Task A_daemon_that_keeps_failing_gives_an_error_naming_the_builder_and_call()
    {
        _daemon.Daemon.FailWith = StatusCode.Unavailable;
        using var client = Client(retries: 2);
        var ex = await Assert.ThrowsAsync<BuildKitUnavailableException>(() => client.ListWorkersAsync());
        Assert.Contains(_daemon.Address, ex.Message, StringComparison.Ordinal);
        Assert.Contains("ListWorkers", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, _daemon.Daemon.Calls.Count(c => c == "ListWorkers"));
    }

    [Fact]
    public async Task Permanent_errors_are_not_retried()
    {
        _daemon.Daemon.FailWith = StatusCode.PermissionDenied;
        using var client = Client(retries: 3);
        await Assert.ThrowsAsync<BuildKitUnavailableException>(() => client.InfoAsync());
        Assert.Single(_daemon.Daemon.Calls, c => c == "Info");
    }

    [Fact]
    public async Task Prune_with_a_cache_mount_filter_removes_only_unused_matching_records()
    {
        _daemon.Daemon.AddRecord("a", 100, "exec.cachemount", "cached mount /root/.npm from exec npm ci with id \"npm\"");
        _daemon.Daemon.AddRecord("b", 200, "exec.cachemount", "cached mount /root/.npm from exec npm ci with id \"npm\"", inUse: true);
        _daemon.Daemon.AddRecord("c", 300, "regular", "layer");
        using var client = Client();

        var pruned = new List<UsageRecord>();
        await foreach (var r in client.PruneAsync(new PruneRequest { Filter = { "type==exec.cachemount" } }))
        {
            pruned.Add(r);
        }

        Assert.Equal(["a"], pruned.Select(r => r.ID));
        var left = await client.DiskUsageAsync();
        Assert.Equal(["b", "c"], left.Select(r => r.ID));
    }

    [Fact]
    public async Task Active_builds_are_listed_and_the_stream_ends_by_itself()
    {
        _daemon.Daemon.ActiveBuilds["ref1"] = DateTimeOffset.UnixEpoch.AddDays(1);
        using var client = Client();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var builds = await client.ListActiveBuildsAsync(timeout.Token);
        Assert.Equal("ref1", Assert.Single(builds).Ref);
    }

    [Theory]
    [InlineData("tcp://builder-0.ns.svc:1234", false, "http://builder-0.ns.svc:1234/")]
    [InlineData("builder:1234", false, "http://builder:1234/")]
    [InlineData("tcp://10.0.0.5:1234", true, "https://10.0.0.5:1234/")]
    public void Addresses_in_buildx_form_become_grpc_uris(string address, bool tls, string expected) =>
        Assert.Equal(expected, BuildKitAddress.ToGrpcUri(address, tls).ToString());

    [Theory]
    [InlineData("unix:///run/buildkit.sock")]
    [InlineData("tcp://host")]
    public void Unsupported_addresses_are_refused_with_the_reason(string address) =>
        Assert.Throws<FormatException>(() => BuildKitAddress.ToGrpcUri(address, false));
}
