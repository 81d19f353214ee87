using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Routing;
using k8s.Models;

namespace BuildPool.Gateway.Tests.Discovery;

public sealed class CacheVolumeBackendsTests
{
    public static TheoryData<string, CacheVolumePhase?, bool, bool, BackendState> Phases => new()
    {
        { "a Ready volume takes builds", CacheVolumePhase.Ready, false, false, BackendState.Ready },
        { "a Draining volume takes no new builds", CacheVolumePhase.Draining, false, false, BackendState.Draining },
        { "an Idle volume is stopped: builds ask for it", CacheVolumePhase.Idle, false, false, BackendState.Stopped },
        { "a Starting volume is stopped: builds wait for it", CacheVolumePhase.Starting, false, false, BackendState.Stopped },
        { "a Pending volume is stopped", CacheVolumePhase.Pending, false, false, BackendState.Stopped },
        { "a volume without status yet is stopped", null, false, false, BackendState.Stopped },
        { "a Stalled Pending volume is unavailable: demand cannot start it", CacheVolumePhase.Pending, true, false, BackendState.Unavailable },
        { "a Failed volume is unavailable", CacheVolumePhase.Failed, false, false, BackendState.Unavailable },
        { "a Ready volume being deleted drains", CacheVolumePhase.Ready, false, true, BackendState.Draining },
        { "an Idle volume being deleted is unavailable", CacheVolumePhase.Idle, false, true, BackendState.Unavailable },
    };

    [Theory]
    [MemberData(nameof(Phases))]
    public void Phase_maps_to_placement_state(string because, CacheVolumePhase? phase, bool stalled, bool deleting, BackendState expected)
    {
        var volume = Volume("v", phase);
        if (stalled)
        {
            volume.Status.Conditions = [new V1Condition { Type = "Stalled", Status = "True", Reason = "PoolNotFound", Message = "m", LastTransitionTime = DateTime.UtcNow }];
        }

        if (deleting)
        {
            volume.Metadata.DeletionTimestamp = DateTime.UtcNow;
        }

        Assert.True(expected == CacheVolumeBackends.StateOf(volume), because);
    }

    [Fact]
    public void The_operators_last_gc_of_a_volume_reaches_the_gateway_as_utc()
    {
        var volume = Volume("v", CacheVolumePhase.Ready);
        volume.Status.LastGC = new DateTime(2026, 12, 7, 11, 58, 0, DateTimeKind.Unspecified);

        var backend = CacheVolumeBackends.ToBackend(volume, new PoolSettings())!;

        Assert.Equal(new DateTimeOffset(2026, 12, 7, 11, 58, 0, TimeSpan.Zero), backend.LastGC);
        Assert.Null(CacheVolumeBackends.ToBackend(Volume("w", CacheVolumePhase.Ready), new PoolSettings())!.LastGC);
    }

    [Theory]
    [InlineData("tcp://pool-0-builder.ci.svc:1234", "pool-0-builder.ci.svc", 1234)]
    [InlineData("pool-0-builder.ci.svc:1234", "pool-0-builder.ci.svc", 1234)]
    [InlineData("tcp://127.0.0.1:41000/", "127.0.0.1", 41000)]
    [InlineData("tcp://[::1]:1234", "::1", 1234)]
    public void Status_endpoint_is_read_with_or_without_the_tcp_scheme(string endpoint, string host, int port)
    {
        var backend = CacheVolumeBackends.ToBackend(Volume("v", CacheVolumePhase.Ready, endpoint), new PoolSettings())!;

        Assert.Equal(host, backend.EndPoint.Host);
        Assert.Equal(port, backend.EndPoint.Port);
    }

    [Theory]
    [InlineData("tcp://pool-0-builder.ci.svc:1234", false)]
    [InlineData("pool-0-builder.ci.svc:1234", false)]
    [InlineData("tls://pool-0-builder.ci.svc:1234", true)]
    [InlineData("https://pool-0-builder.ci.svc:1234/", true)]
    [InlineData("TLS://pool-0-builder.ci.svc:1234", true)]
    public void The_endpoint_scheme_says_whether_the_builder_is_dialled_with_tls(string endpoint, bool tls)
    {
        var backend = CacheVolumeBackends.ToBackend(Volume("v", CacheVolumePhase.Ready, endpoint), new PoolSettings())!;

        Assert.Equal(("pool-0-builder.ci.svc", 1234, tls), (backend.EndPoint.Host, backend.EndPoint.Port, backend.Tls));
    }

    [Fact]
    public void An_endpoint_with_an_unknown_scheme_is_left_out_rather_than_dialled_wrongly()
    {
        var skipped = new List<string>();

        var backends = CacheVolumeBackends.From([Volume("grpc", CacheVolumePhase.Ready, "unix:///run/buildkit/buildkitd.sock"), Volume("http", CacheVolumePhase.Ready, "http://h:1234")], "pool", new PoolSettings(), skipped);

        Assert.Empty(backends);
        Assert.Equal(["grpc", "http"], skipped);
    }

    [Fact]
    public void A_volume_with_an_unreadable_endpoint_is_left_out_and_named()
    {
        var skipped = new List<string>();

        var backends = CacheVolumeBackends.From([Volume("good", CacheVolumePhase.Ready), Volume("bad", CacheVolumePhase.Ready, "tcp://no-port")], "pool", new PoolSettings(), skipped);

        Assert.Equal(["good"], backends.Select(b => b.Name));
        Assert.Equal(["bad"], skipped);
    }

    [Fact]
    public void A_stopped_volume_without_endpoint_gets_its_builder_service_address()
    {
        var backend = CacheVolumeBackends.ToBackend(Volume("pool-3", CacheVolumePhase.Idle, endpoint: null), new PoolSettings())!;

        Assert.Equal("pool-3-builder.ci.svc", backend.EndPoint.Host);
        Assert.Equal(1234, backend.EndPoint.Port);
    }

    [Fact]
    public void Only_volumes_of_the_pool_become_backends_sorted_by_name()
    {
        var other = Volume("z-other", CacheVolumePhase.Ready);
        other.Spec.Pool = "another";

        var backends = CacheVolumeBackends.From([Volume("pool-1", CacheVolumePhase.Ready), other, Volume("pool-0", CacheVolumePhase.Idle)], "pool", new PoolSettings());

        Assert.Equal(["pool-0", "pool-1"], backends.Select(b => b.Name));
    }

    [Fact]
    public void Pinned_keys_keep_a_volume_off_the_ring_and_locked_sharing_gives_one_slot()
    {
        var pinned = Volume("release", CacheVolumePhase.Ready);
        pinned.Spec.Keys = ["registry.example.test/app"];
        pinned.Spec.Sharing = CacheSharing.Locked;

        var backend = CacheVolumeBackends.ToBackend(pinned, new PoolSettings { MaxConcurrentBuilds = 6 })!;
        var plain = CacheVolumeBackends.ToBackend(Volume("pool-0", CacheVolumePhase.Ready), new PoolSettings { MaxConcurrentBuilds = 6, Sharing = CacheSharing.Locked })!;

        Assert.Equal(["registry.example.test/app"], backend.Keys);
        Assert.False(backend.ToBackend().AcceptsHashedKeys);
        Assert.Equal(1, backend.MaxConcurrentBuilds);
        Assert.True(plain.ToBackend().AcceptsHashedKeys);
        Assert.Equal(1, plain.MaxConcurrentBuilds);
    }

    [Fact]
    public void A_volume_that_only_carries_a_fork_of_label_is_not_taken_for_that_volumes_fork()
    {
        // Whoever may label a CacheVolume could otherwise draw another volume's overflow builds
        // (its sources, its secrets' uses) onto a cache they read, or mark it isolated.
        var labelled = Volume("mine", CacheVolumePhase.Ready);
        labelled.Metadata.Labels = new Dictionary<string, string> { [LifecycleAnnotations.ForkOfLabel] = "pool-0" };
        var misnamed = Fork("mine", "pool-0");
        var forged = Fork("pool-0-f1", "pool-0", controller: "someone-else");
        var real = Fork("pool-0-f1", "pool-0");
        var isolated = Fork("pool-0-iabc123", "pool-0", isolatedFor: "abc123");

        Assert.Null(Backend(labelled).ForkOf);
        Assert.Null(Backend(misnamed).ForkOf);
        Assert.Null(Backend(forged).ForkOf);
        Assert.True(Backend(labelled).AcceptsHashedKeys);
        Assert.Equal("pool-0", Backend(real).ForkOf);
        Assert.False(Backend(real).AcceptsHashedKeys);
        Assert.Equal(("pool-0", "abc123"), (Backend(isolated).ForkOf, Backend(isolated).IsolatedFor));

        static StaticBackend Backend(CacheVolume volume) => CacheVolumeBackends.ToBackend(volume, new PoolSettings())!;
    }

    private static CacheVolume Fork(string name, string baseName, string? controller = null, string? isolatedFor = null)
    {
        var fork = Volume(name, CacheVolumePhase.Ready);
        fork.Metadata.Labels = new Dictionary<string, string> { [LifecycleAnnotations.ForkOfLabel] = baseName };
        if (isolatedFor is not null)
        {
            fork.Metadata.Labels[LifecycleAnnotations.IsolatedForLabel] = isolatedFor;
        }

        fork.Metadata.OwnerReferences = [new V1OwnerReference { ApiVersion = "buildpool.dev/v1alpha1", Kind = CacheVolume.KubeKind, Name = controller ?? baseName, Uid = "uid-1", Controller = true }];
        return fork;
    }

    private static CacheVolume Volume(string name, CacheVolumePhase? phase, string? endpoint = "tcp://127.0.0.1:1234") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ci" },
        Spec = new CacheVolumeSpec { Pool = "pool" },
        Status = new CacheVolumeStatus { Phase = phase, Endpoint = endpoint },
    };
}
