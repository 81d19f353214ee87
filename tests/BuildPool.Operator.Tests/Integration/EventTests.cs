using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class EventTests
{
    private const string Ns = "default";

    private static BuilderPool Pool() => new()
    {
        Metadata = new V1ObjectMeta { Name = "ev", NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 },
            Scaling = new ScalingSpec { WarmBuilders = 1 },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi" } },
        },
    };

    private static bool IsPoolReady(Corev1Event e) => e.InvolvedObject.Kind == "BuilderPool" && e.Reason == "Ready";

    private static bool IsVolumeStarting(Corev1Event e) => e.InvolvedObject.Name == "ev-0" && e.Reason == "Starting" && e.Type == "Normal";

    private static bool IsVolumeReady(Corev1Event e) =>
        e.InvolvedObject.Name == "ev-0" && e.Reason == "Ready" && e.Type == "Normal" && e.Message.Contains("buildkitd", StringComparison.Ordinal);

    private static bool IsPoolStalled(Corev1Event e) => e.InvolvedObject.Kind == "BuilderPool" && e.Reason == "InvalidSpec";

    private static Task<IReadOnlyList<Corev1Event>> EventsAsync(OperatorHarness h) => new ResourceClient<Corev1Event>(h.Kubernetes).ListAsync(Ns);

    [Fact]
    public async Task Kubectl_describe_shows_a_volume_starting_and_ready_and_the_pool_ready_once()
    {
        await using var h = await OperatorHarness.StartAsync();
        await h.Pools.CreateAsync(Pool());
        await h.WaitForReadyPoolAsync(Ns, "ev");

        // The volume records its Ready event after writing the status that lets the pool become
        // Ready, so the pool's event can be listed before the volume's: wait for all three.
        var events = await h.WaitAsync(() => EventsAsync(h), e => e.Any(IsPoolReady) && e.Any(IsVolumeStarting) && e.Any(IsVolumeReady),
            "the volume's Starting and Ready events and the pool's Ready event");

        var ready = Assert.Single(events, IsPoolReady);
        Assert.Equal(("ev", "Normal"), (ready.InvolvedObject.Name, ready.Type));
    }

    [Fact]
    public async Task A_pool_whose_spec_stalls_gets_a_warning_event_naming_the_field()
    {
        await using var h = await OperatorHarness.StartAsync();
        var pool = Pool();
        pool.Spec.Cache.Gc = new GcPolicy { MaxUsedSpace = "20Gi" };
        await h.Pools.CreateAsync(pool);

        var events = await h.WaitAsync(() => EventsAsync(h), e => e.Any(IsPoolStalled), "the pool's stalled event");

        var stalled = Assert.Single(events, IsPoolStalled);
        Assert.Equal("Warning", stalled.Type);
        Assert.StartsWith("spec.cache.gc.maxUsedSpace:", stalled.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_event_again_raises_the_count_of_the_first_instead_of_adding_an_object()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var pool = await h.Pools.CreateAsync(Pool());
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var recorder = new Status.EventRecorder(new ResourceClient<Corev1Event>(h.Kubernetes), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<Status.EventRecorder>.Instance);

        await recorder.RecordAsync(pool, "Warning", "ImagePullBackOff", "cannot pull", CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(30));
        await recorder.RecordAsync(pool, "Warning", "ImagePullBackOff", "cannot pull", CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(30));
        await recorder.RecordAsync(pool, "Warning", "ImagePullBackOff", "cannot pull", CancellationToken.None);
        await recorder.RecordAsync(pool, "Warning", "ImagePullBackOff", "another cause", CancellationToken.None);
        clock.Advance(Status.EventRecorder.AggregationWindow);
        await recorder.RecordAsync(pool, "Warning", "ImagePullBackOff", "cannot pull", CancellationToken.None);

        var events = (await EventsAsync(h)).Where(e => e.InvolvedObject.Uid == pool.Metadata.Uid).OrderBy(e => e.FirstTimestamp).ThenBy(e => e.Message, StringComparer.Ordinal).ToList();
        Assert.Equal(
            [("cannot pull", 3, new DateTime(2030, 1, 2, 3, 5, 5, DateTimeKind.Utc)), ("another cause", 1, new DateTime(2030, 1, 2, 3, 5, 5, DateTimeKind.Utc)), ("cannot pull", 1, new DateTime(2030, 1, 2, 3, 15, 5, DateTimeKind.Utc))],
            events.Select(e => (e.Message, e.Count ?? 0, e.LastTimestamp!.Value.ToUniversalTime())));
        Assert.Equal(new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc), events[0].FirstTimestamp!.Value.ToUniversalTime());
    }

    [Fact]
    public async Task A_client_access_binding_records_why_it_waits_then_that_it_issued_a_certificate_then_that_it_revoked_it()
    {
        await using var h = await OperatorHarness.StartAsync();
        await SecretBindingTests.CreateTenantNamespaceAsync(h);
        var bindings = new ResourceClient<SecretBinding>(h.Kubernetes);
        await bindings.CreateAsync(SecretBindingTests.ClientAccess("team-a-ci", "later"));
        bool About(Corev1Event e, string reason) => e.InvolvedObject.Kind == "SecretBinding" && e.InvolvedObject.Name == "team-a-ci" && e.Reason == reason;

        var waiting = await h.WaitAsync(() => EventsAsync(h), e => e.Any(x => About(x, "PoolNotFound")), "the binding's PoolNotFound event");
        var notFound = Assert.Single(waiting, x => About(x, "PoolNotFound"));
        Assert.Equal("Warning", notFound.Type);
        Assert.StartsWith("spec.pool:", notFound.Message, StringComparison.Ordinal);

        await h.Pools.CreateAsync(PoolTlsTests.Pool("later", TlsMode.Managed));
        var issued = await h.WaitAsync(() => EventsAsync(h), e => e.Any(x => About(x, "Issued")) && e.Any(x => About(x, "CertificateIssued")), "the binding's Issued and CertificateIssued events");
        Assert.Equal("Normal", Assert.Single(issued, x => About(x, "Issued")).Type);
        Assert.Contains("team-a/ci-client", Assert.Single(issued, x => About(x, "CertificateIssued")).Message, StringComparison.Ordinal);

        await bindings.DeleteAsync(Ns, "team-a-ci");
        var revoked = await h.WaitAsync(() => EventsAsync(h), e => e.Any(x => About(x, "CertificateRevoked")), "the binding's CertificateRevoked event");
        Assert.Contains("team-a/ci-client", Assert.Single(revoked, x => About(x, "CertificateRevoked")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cache_target_whose_registry_is_unreachable_gets_a_warning_event_naming_the_error()
    {
        var port = Registry.RegistryCacheTargetReconcilerTests.ClosedPort();
        await using var h = await OperatorHarness.StartAsync(new OperatorOptions { RegistryGcInterval = TimeSpan.FromSeconds(1) });
        await new ResourceClient<RegistryCacheTarget>(h.Kubernetes).CreateAsync(new RegistryCacheTarget
        {
            Metadata = new V1ObjectMeta { Name = "cache", NamespaceProperty = Ns },
            Spec = new RegistryCacheTargetSpec { Ref = $"127.0.0.1:{port}/cache/app:{{key}}" },
        });
        static bool Unreachable(Corev1Event e) => e.InvolvedObject.Kind == "RegistryCacheTarget" && e.Reason == "Unreachable";

        var events = await h.WaitAsync(() => EventsAsync(h), e => e.Any(Unreachable), "the target's Unreachable event");
        var unreachable = Assert.Single(events, Unreachable);
        Assert.Equal("Warning", unreachable.Type);
        Assert.Contains("connection refused", unreachable.Message, StringComparison.Ordinal);
    }
}

