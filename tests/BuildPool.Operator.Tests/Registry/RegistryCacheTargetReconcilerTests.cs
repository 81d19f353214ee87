using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Registry;
using BuildPool.Operator.Tests.Integration;
using BuildPool.Runtime.Client;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>The real operator against the local Kubernetes API and a real (or fake) registry.</summary>
public sealed class RegistryCacheTargetReconcilerTests
{
    private const string Ns = "default";
    private static readonly OperatorOptions Options = new() { RegistryGcInterval = TimeSpan.FromSeconds(2) };

    private static V1Condition? Condition(RegistryCacheTarget? target, string type) =>
        target?.Status?.Conditions.FirstOrDefault(c => c.Type == type && c.ObservedGeneration == target.Metadata.Generation);

    private static bool Is(RegistryCacheTarget? target, string type, string reason) =>
        Condition(target, type) is { Status: "True" } c && c.Reason == reason;

    private static async Task<ResourceClient<RegistryCacheTarget>> CreateAsync(OperatorHarness h, RegistryCacheTargetSpec spec, string name = "cache")
    {
        var targets = new ResourceClient<RegistryCacheTarget>(h.Kubernetes);
        await targets.CreateAsync(new RegistryCacheTarget { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns }, Spec = spec });
        return targets;
    }

    /// <summary>A loopback port nothing listens on (it was free a moment ago): connecting is refused at once.</summary>
    internal static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task CreateCredentialsAsync(OperatorHarness h, string user, string password)
    {
        await new ResourceClient<V1Secret>(h.Kubernetes).CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "registry-login", NamespaceProperty = Ns },
            Type = "kubernetes.io/basic-auth",
            StringData = new Dictionary<string, string> { ["username"] = user, ["password"] = password },
        });
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "registry-login", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec
            {
                Kind = SecretBindingKind.CacheBackendCredentials,
                Pool = "ci",
                CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "registry-login" },
            },
        });
    }

    [RegistryFact]
    public async Task Retention_runs_on_schedule_and_status_reports_tags_bytes_last_gc_freed_bytes_and_flags()
    {
        await using var registry = await RealRegistry.StartAsync();
        var now = DateTimeOffset.UtcNow;
        var kept = TestCache.Create(now.AddHours(-1), [4096], seed: 1);
        var old = TestCache.Create(now.AddDays(-20), [8192], seed: 2);
        using (var http = registry.CreatePushClient())
        {
            await RegistryPusher.PushAsync(http, "cache/app", "cache-main", kept);
            await RegistryPusher.PushAsync(http, "cache/app", "cache-old", old);
        }

        // Retention runs every 2 s and status.freedBytes is the last run's: on the real clock a poll
        // that comes late reads the second run, which freed nothing. On this clock the second run
        // comes only when the test moves time on; waiting for the first moves it a few ms a probe,
        // enough for the controllers' backoff, nowhere near 2 s.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var h = await OperatorHarness.StartAsync(Options, time: clock);
        var targets = await CreateAsync(h, new RegistryCacheTargetSpec
        {
            Ref = $"{registry.Host}/cache/app:cache-{{key}}",
            Mode = CacheExportMode.Max,
            ImageManifest = true,
            Retention = new CacheRetentionPolicy { MaxAge = "336h" },
        });

        var ready = await h.WaitAsync(() =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(5));
            return targets.GetAsync(Ns, "cache");
        }, t => Is(t, "Ready", "RetentionApplied"), "the target to apply retention");
        var status = ready!.Status;
        Assert.True(status.Reachable);
        Assert.Equal(1, status.TagCount);
        Assert.Equal(kept.Bytes, status.Bytes);
        Assert.Equal(old.Bytes, status.FreedBytes);
        Assert.NotNull(status.LastGC);
        Assert.Equal($"type=registry,ref={registry.Host}/cache/app:cache-{{key}},mode=max,image-manifest=true,oci-mediatypes=true", status.BuildxFlags!.CacheTo);
        Assert.Equal($"type=registry,ref={registry.Host}/cache/app:cache-{{key}}", status.BuildxFlags.CacheFrom);
        using var client = new RegistryClient(new Uri($"http://{registry.Host}"));
        Assert.Equal(["cache-main"], await client.ListTagsAsync("cache/app"));

        // A cache pushed later goes at a later run, without any change to the target.
        using (var http = registry.CreatePushClient())
        {
            await RegistryPusher.PushAsync(http, "cache/app", "cache-stale", TestCache.Create(now.AddDays(-30), [1024], seed: 3));
        }

        await h.WaitAsync(() =>
        {
            clock.Advance(TimeSpan.FromMilliseconds(500));
            return client.ListTagsAsync("cache/app");
        }, tags => tags.SequenceEqual(["cache-main"]), "the next scheduled run to delete cache-stale");
    }

    [RegistryFact(needsHtpasswd: true)]
    public async Task A_wrong_password_is_a_clear_Unauthorized_condition_and_fixing_the_Secret_recovers()
    {
        await using var registry = await RealRegistry.StartAsync(auth: new RegistryAuthForTests("ci", "correct-horse"));
        await using var h = await OperatorHarness.StartAsync(Options);
        await CreateCredentialsAsync(h, "ci", "wrong");
        var targets = await CreateAsync(h, new RegistryCacheTargetSpec
        {
            Ref = $"{registry.Host}/cache/app:cache-{{key}}",
            Credentials = "registry-login",
            Retention = new CacheRetentionPolicy { MaxTags = 5 },
        });

        var stalled = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Stalled", "Unauthorized"), "the target to be Stalled: Unauthorized");
        Assert.Contains("401", Condition(stalled, "Stalled")!.Message, StringComparison.Ordinal);
        Assert.True(stalled!.Status.Reachable);
        Assert.Equal("False", Condition(stalled, "Ready")!.Status);

        await new ResourceClient<V1Secret>(h.Kubernetes).PatchAsync(Ns, "registry-login", new { stringData = new Dictionary<string, string> { ["password"] = "correct-horse" } });
        await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Ready", "RetentionApplied"), "the target to recover once the Secret is fixed");
    }

    [Fact]
    public async Task A_registry_nobody_listens_on_is_Stalled_Unreachable()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        var targets = await CreateAsync(h, new RegistryCacheTargetSpec { Ref = $"127.0.0.1:{ClosedPort()}/cache/app:{{key}}" });

        var stalled = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Stalled", "Unreachable"), "the target to be Stalled: Unreachable");
        Assert.False(stalled!.Status.Reachable);
        Assert.Contains("connection refused", Condition(stalled, "Stalled")!.Message, StringComparison.Ordinal);
        Assert.NotNull(stalled.Status.BuildxFlags);
    }

    [Fact]
    public async Task An_invalid_spec_is_Stalled_naming_the_field()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        // What the CRD's rules cannot see (imageManifest without ociMediatypes is refused at apply time).
        var targets = await CreateAsync(h, new RegistryCacheTargetSpec { Ref = "127.0.0.1:1/{key}", Retention = new CacheRetentionPolicy { MaxTags = 5 } });

        var stalled = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Stalled", "InvalidSpec"), "the target to be Stalled: InvalidSpec");
        Assert.StartsWith("spec.retention:", Condition(stalled, "Stalled")!.Message, StringComparison.Ordinal);
        Assert.Null(stalled!.Status.BuildxFlags);
    }

    [Fact]
    public async Task Token_auth_with_a_dockerconfigjson_Secret_lists_repositories_through_the_catalog()
    {
        await using var registry = await FakeRegistry.StartAsync(FakeAuth.Bearer);
        var now = DateTimeOffset.UtcNow;
        registry.Push("cache/web", "latest", TestCache.Create(now.AddHours(-1), [100], seed: 1));
        registry.Push("cache/api", "latest", TestCache.Create(now.AddHours(-2), [100], seed: 2));
        registry.Push("cache/old", "latest", TestCache.Create(now.AddDays(-40), [100], seed: 3));
        registry.Push("other/app", "latest", TestCache.Create(now.AddDays(-40), [100], seed: 4));

        await using var h = await OperatorHarness.StartAsync(Options);
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{FakeRegistry.User}:{FakeRegistry.Password}"));
        await new ResourceClient<V1Secret>(h.Kubernetes).CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "registry-login", NamespaceProperty = Ns },
            Type = "kubernetes.io/dockerconfigjson",
            StringData = new Dictionary<string, string> { [".dockerconfigjson"] = $"{{\"auths\":{{\"{registry.Host}\":{{\"auth\":\"{auth}\"}}}}}}" },
        });
        await new ResourceClient<SecretBinding>(h.Kubernetes).CreateAsync(new SecretBinding
        {
            Metadata = new V1ObjectMeta { Name = "registry-login", NamespaceProperty = Ns },
            Spec = new SecretBindingSpec { Kind = SecretBindingKind.CacheBackendCredentials, Pool = "ci", CacheBackendCredentials = new CacheBackendCredentialsBinding { SecretName = "registry-login" } },
        });
        var targets = await CreateAsync(h, new RegistryCacheTargetSpec
        {
            Ref = $"{registry.Host}/cache/{{key}}",
            Credentials = "registry-login",
            Retention = new CacheRetentionPolicy { MaxAge = "720h" },
        });

        var ready = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Ready", "RetentionApplied"), "retention over the catalog");
        Assert.Equal(2, ready!.Status.TagCount);
        Assert.Empty(registry.TagsOf("cache/old"));
        Assert.Single(registry.TagsOf("other/app"));
        Assert.Contains("registry:catalog:*", registry.TokenScopes);
    }

    [Fact]
    public async Task Without_a_catalog_a_key_in_the_repository_is_only_checked_for_reachability()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.CatalogEnabled = false;
        await using var h = await OperatorHarness.StartAsync(Options);
        var targets = await CreateAsync(h, new RegistryCacheTargetSpec { Ref = $"{registry.Host}/cache/{{key}}", Retention = new CacheRetentionPolicy { MaxTags = 3 } });

        var ready = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Ready", "Reachable"), "the target to be Ready: Reachable");
        Assert.Contains("does not serve its catalog", Condition(ready, "Ready")!.Message, StringComparison.Ordinal);
        Assert.Null(ready!.Status.TagCount);
        Assert.True(ready.Status.Reachable);
    }

    [Fact]
    public async Task A_missing_SecretBinding_is_Stalled_naming_spec_credentials()
    {
        await using var h = await OperatorHarness.StartAsync(Options);
        var targets = await CreateAsync(h, new RegistryCacheTargetSpec { Ref = "127.0.0.1:1/cache/app:{key}", Credentials = "nope" });

        var stalled = await h.WaitAsync(() => targets.GetAsync(Ns, "cache"), t => Is(t, "Stalled", "MissingSecret"), "the target to be Stalled: MissingSecret");
        Assert.StartsWith("spec.credentials: SecretBinding \"nope\" not found", Condition(stalled, "Stalled")!.Message, StringComparison.Ordinal);
    }
}
