using System.Net;
using System.Text;
using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Hosting;
using BuildPool.Operator.Volumes;
using BuildPool.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.Operator.Tests.Integration;

public sealed class GarbageCollectionTests
{
    private const string Ns = "default";
    private const long Gi = 1L << 30;

    private static BuilderPool Pool(string storageClass, AutoGrowPolicy? grow, IList<CacheMountRule>? rules = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = "gc", NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Assignment = new AssignmentSpec { Volumes = 1 },
            Cache = new CacheSpec
            {
                Volume = new CacheVolumeTemplate { Size = "10Gi", StorageClassName = storageClass },
                AutoGrow = grow,
                CacheMounts = rules,
            },
        },
    };

    private static Task StorageClassAsync(OperatorHarness h, string name, bool expandable) =>
        new ResourceClient<V1StorageClass>(h.Kubernetes).CreateAsync(new V1StorageClass
        {
            Metadata = new V1ObjectMeta { Name = name },
            Provisioner = "example.test/csi",
            AllowVolumeExpansion = expandable,
        });

    private static Task<CacheVolume?> ReadyVolumeAsync(OperatorHarness h) =>
        h.WaitAsync(async () =>
        {
            await h.SimulateReadyDeploymentsAsync(Ns);
            return await h.Volumes.GetAsync(Ns, "gc-0");
        }, v => v?.Status.Phase == CacheVolumePhase.Ready, "the volume to be Ready");

    [Fact]
    public async Task A_cache_mount_rule_prunes_its_stale_records_and_an_in_use_record_survives()
    {
        await using var h = await OperatorHarness.StartAsync();
        var old = DateTimeOffset.UtcNow.AddDays(-30);
        h.Daemon.Daemon.AddRecord("stale", Gi, "exec.cachemount", "cached mount /root/.npm from exec npm ci with id \"npm\"", lastUsed: old);
        h.Daemon.Daemon.AddRecord("busy", Gi, "exec.cachemount", "cached mount /root/.npm from exec npm ci with id \"npm\"", inUse: true, lastUsed: old);
        h.Daemon.Daemon.AddRecord("other", Gi, "exec.cachemount", "cached mount /go from exec go build with id \"go\"", lastUsed: old);
        await StorageClassAsync(h, "fast", expandable: true);
        await h.Pools.CreateAsync(Pool("fast", grow: null, rules: [new CacheMountRule { Id = "npm", KeepDuration = "168h" }]));

        var volume = await ReadyVolumeAsync(h);
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "gc-0"), v => v?.Status.LastGC is not null, "a GC pass");
        var prune = Assert.Single(h.Daemon.Daemon.PruneRequests);
        Assert.Equal(["id==stale"], prune.Filter);
        Assert.Equal(["busy", "other"], h.Daemon.Daemon.Records.Keys.Order(StringComparer.Ordinal));
        var events = await new ResourceClient<Corev1Event>(h.Kubernetes).ListAsync(Ns);
        Assert.Contains(events, e => e.Reason == "Pruned" && e.InvolvedObject.Name == "gc-0");
    }

    [Fact]
    public async Task A_gc_pass_shows_in_status_even_when_the_status_write_after_its_pruning_meets_a_conflict()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        h.Daemon.Daemon.AddRecord("stale", Gi, "exec.cachemount", "cached mount /root/.npm from exec npm ci with id \"npm\"", lastUsed: DateTimeOffset.UtcNow.AddDays(-30));
        await StorageClassAsync(h, "fast", expandable: true);
        await h.Pools.CreateAsync(Pool("fast", grow: null, rules: [new CacheMountRule { Id = "npm", KeepDuration = "168h" }]));
        // What a cache a write behind does to the status write right after the pruning: a 409.
        // The retry finds nothing left to prune, and must still record the pass.
        var conflict = new ConflictOnFirstGcStatus();
        using var client = new Kubernetes(new KubernetesClientConfiguration { Host = h.Server.BaseAddress.ToString().TrimEnd('/') }, conflict);
        var (manager, _) = BuildPoolOperator.Create(
            client,
            new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1) },
            TimeProvider.System,
            NullLoggerFactory.Instance,
            connector: new FixedBuilderConnector(h.Daemon.Address));
        using var stop = new CancellationTokenSource();
        var run = manager.RunAsync(stop.Token);
        try
        {
            await h.WaitAsync(async () =>
            {
                await h.SimulateReadyDeploymentsAsync(Ns);
                return await h.Volumes.GetAsync(Ns, "gc-0");
            }, v => v?.Status.LastGC is not null, "status.lastGC to record the pass");

            Assert.True(conflict.Refused, "the status write after the pruning was never refused");
            Assert.Equal(["id==stale"], Assert.Single(h.Daemon.Daemon.PruneRequests).Filter);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task Usage_over_the_threshold_is_pruned_then_the_claim_grows_then_the_volume_reports_full()
    {
        await using var h = await OperatorHarness.StartAsync();
        // In use, so pruning cannot free it: only growing can help.
        h.Daemon.Daemon.AddRecord("huge", 9 * Gi + (Gi / 2), "regular", "layer", inUse: true);
        await StorageClassAsync(h, "fast", expandable: true);
        await h.Pools.CreateAsync(Pool("fast", new AutoGrowPolicy { Threshold = "85%", Step = "5Gi", MaxSize = "15Gi" }));

        await ReadyVolumeAsync(h);
        var claims = new ResourceClient<V1PersistentVolumeClaim>(h.Kubernetes);
        var grown = await h.WaitAsync(() => claims.GetAsync(Ns, "gc-0-state"),
            c => c?.Spec.Resources.Requests["storage"].ToString() == "15Gi", "the claim to grow to 15Gi");
        Assert.NotEmpty(h.Daemon.Daemon.PruneRequests);

        // 15Gi is the maximum: more usage cannot be absorbed.
        h.Daemon.Daemon.AddRecord("more", 5 * Gi, "regular", "layer", inUse: true);
        var full = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "gc-0"),
            v => v?.Status.Conditions.Any(c => c.Type == CacheVolumeReconciler.VolumeFullCondition && c.Status == "True") == true, "CacheVolumeFull");
        Assert.Contains("maxSize", full!.Status.Conditions.Single(c => c.Type == CacheVolumeReconciler.VolumeFullCondition).Message, StringComparison.Ordinal);
        Assert.Equal("15Gi", (await claims.GetAsync(Ns, "gc-0-state"))!.Spec.Resources.Requests["storage"].ToString());
    }

    [Fact]
    public async Task A_storage_class_without_expansion_makes_the_volume_report_full_instead_of_growing()
    {
        await using var h = await OperatorHarness.StartAsync();
        h.Daemon.Daemon.AddRecord("huge", 9 * Gi + (Gi / 2), "regular", "layer", inUse: true);
        await StorageClassAsync(h, "fixed", expandable: false);
        await h.Pools.CreateAsync(Pool("fixed", new AutoGrowPolicy { Threshold = "85%", Step = "5Gi", MaxSize = "50Gi" }));

        await ReadyVolumeAsync(h);
        var full = await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "gc-0"),
            v => v?.Status.Conditions.Any(c => c.Type == CacheVolumeReconciler.VolumeFullCondition && c.Status == "True") == true, "CacheVolumeFull");
        Assert.Contains("does not allow volume expansion", full!.Status.Conditions.Single(c => c.Type == CacheVolumeReconciler.VolumeFullCondition).Message, StringComparison.Ordinal);
    }

    /// <summary>Answers the first status write of gc-0 that records a GC pass with 409 Conflict, as the API does for a stale resourceVersion.</summary>
    private sealed class ConflictOnFirstGcStatus : DelegatingHandler
    {
        private int _refused;

        public bool Refused => Volatile.Read(ref _refused) == 1;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Put
                && request.RequestUri!.AbsolutePath.EndsWith("/cachevolumes/gc-0/status", StringComparison.Ordinal)
                && request.Content is not null
                && (await request.Content.ReadAsStringAsync(cancellationToken)).Contains("\"lastGC\"", StringComparison.Ordinal)
                && Interlocked.Exchange(ref _refused, 1) == 0)
            {
                return new HttpResponseMessage(HttpStatusCode.Conflict)
                {
                    RequestMessage = request,
                    Content = new StringContent(
                        """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,"message":"the object has been modified; please apply your changes to the latest version and try again"}""",
                        Encoding.UTF8,
                        "application/json"),
                };
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
