using System.Net.Http.Json;
using System.Text.Json.Nodes;
using BuildPool.Api.V1Alpha1;
using BuildPool.Runtime.Client;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

/// <summary>
/// Builders and gateways that never start, on a cluster that says why (the kubelet stand-in with
/// <see cref="KubeletRules"/>): the cause reaches the CacheVolume's phase, its Stalled condition,
/// the <c>kubectl get cv</c> columns and an Event, and the pool summarises it.
/// </summary>
public sealed class StartFailureTests
{
    private const string Ns = "default";
    private const string MissingImage = "buildkit-that-does-not-exist:v0";
    private const string GoodImage = "moby/buildkit:v0.18.0-rootless";

    private static BuilderPool Pool(string name, string image = GoodImage, string? storageClass = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns },
        Spec = new BuilderPoolSpec
        {
            Builder = new BuilderSpec { Image = image },
            Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 },
            Scaling = new ScalingSpec { WarmBuilders = 1 },
            Cache = new CacheSpec { Volume = new CacheVolumeTemplate { Size = "10Gi", StorageClassName = storageClass } },
        },
    };

    [Fact]
    public async Task A_builder_image_that_does_not_exist_fails_the_volume_with_the_pull_error_until_the_image_is_fixed()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kubelet = FakeKubelet.Start(h.Kubernetes, Ns, new KubeletRules { MissingImages = new HashSet<string>(StringComparer.Ordinal) { MissingImage } });
        await h.Pools.CreateAsync(Pool("pull", MissingImage));

        var volume = await WaitForFailedAsync(h, "pull-0", "ImagePullBackOff");
        Assert.Contains($"cannot pull image \"{MissingImage}\"", Stalled(volume).Message, StringComparison.Ordinal);
        Assert.Contains("spec.builder.image", Stalled(volume).Message, StringComparison.Ordinal);
        await AssertShownAsync(h, "pull-0", "ImagePullBackOff", $"cannot pull image \"{MissingImage}\"");
        var pool = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "pull"), p => p?.Status.FailedVolumes == 1 && Reason(p, "Stalled") == "BuildersFailing", "the pool to count the failing volume");
        Assert.Contains("1 of 1 cache volumes failing: ImagePullBackOff (pull-0)", Message(pool!, "Ready"), StringComparison.Ordinal);

        await h.Pools.PatchAsync(Ns, "pull", new { spec = new { builder = new { image = GoodImage } } });

        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, "pull-0"), v => v?.Status.Phase == CacheVolumePhase.Ready, "the volume to become Ready on the fixed image");
        await h.WaitAsync(() => h.Pools.GetAsync(Ns, "pull"), p => p?.Status.FailedVolumes == 0 && Reason(p, "Ready") == "Ready", "the pool to become Ready again");
    }

    [Fact]
    public async Task A_claim_that_cannot_bind_fails_the_volume_with_the_provisioners_warning()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kubelet = FakeKubelet.Start(h.Kubernetes, Ns, new KubeletRules());
        await h.Pools.CreateAsync(Pool("claim", storageClass: "no-such-class"));

        var volume = await WaitForFailedAsync(h, "claim-0", "ClaimNotBound");

        Assert.Contains("storageclass.storage.k8s.io \"no-such-class\" not found", Stalled(volume).Message, StringComparison.Ordinal);
        Assert.Contains("storageClassName", Stalled(volume).Message, StringComparison.Ordinal);
        await AssertShownAsync(h, "claim-0", "ClaimNotBound", "ProvisioningFailed");
    }

    [Fact]
    public async Task A_builder_refused_by_pod_security_fails_the_volume_saying_the_namespace_needs_privileged()
    {
        await using var h = await OperatorHarness.StartAsync();
        await using var kubelet = FakeKubelet.Start(h.Kubernetes, Ns, new KubeletRules { EnforcePodSecurity = "baseline" });
        await h.Pools.CreateAsync(Pool("psa"));

        var volume = await WaitForFailedAsync(h, "psa-0", "PodSecurityRejected");

        Assert.Contains("violates PodSecurity \"baseline:latest\"", Stalled(volume).Message, StringComparison.Ordinal);
        Assert.Contains("pod-security.kubernetes.io/enforce", Stalled(volume).Message, StringComparison.Ordinal);
        await AssertShownAsync(h, "psa-0", "PodSecurityRejected", "violates PodSecurity");
    }

    [Fact]
    public async Task A_builder_killed_for_memory_fails_the_volume_naming_the_memory_limit()
    {
        await using var h = await OperatorHarness.StartAsync();
        var crash = new Dictionary<string, KubeletRules.ContainerExit>(StringComparer.Ordinal) { [GoodImage] = new(137, "OOMKilled", string.Empty) };
        await using var kubelet = FakeKubelet.Start(h.Kubernetes, Ns, new KubeletRules { Crashing = crash });
        await h.Pools.CreateAsync(Pool("oom"));

        var volume = await WaitForFailedAsync(h, "oom-0", "OOMKilled");

        Assert.Contains("spec.builder.resources.limits.memory", Stalled(volume).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_image_that_does_not_exist_stalls_the_pool_with_an_event()
    {
        const string gatewayImage = "buildpool-gateway-that-does-not-exist:v0";
        await using var h = await OperatorHarness.StartAsync(new OperatorOptions { GatewayImage = gatewayImage, DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1) });
        await using var kubelet = FakeKubelet.Start(h.Kubernetes, Ns, new KubeletRules { MissingImages = new HashSet<string>(StringComparer.Ordinal) { gatewayImage } });
        await h.Pools.CreateAsync(Pool("gw"));

        var pool = await h.WaitAsync(() => h.Pools.GetAsync(Ns, "gw"), p => Reason(p, "Stalled") == "GatewayImagePullBackOff", "the pool to stall on its gateway's image");

        Assert.Contains("--gateway-image", Message(pool!, "Stalled"), StringComparison.Ordinal);
        await h.WaitAsync(() => EventsAsync(h), e => e.Any(x => x.InvolvedObject.Name == "gw" && x.Reason == "GatewayImagePullBackOff" && x.Type == "Warning"), "the pool's Warning Event");
    }

    private static async Task<CacheVolume> WaitForFailedAsync(OperatorHarness h, string name, string reason) =>
        (await h.WaitAsync(() => h.Volumes.GetAsync(Ns, name), v => v?.Status.Phase == CacheVolumePhase.Failed && Reason(v, "Stalled") == reason, $"volume {name} to fail with {reason}"))!;

    /// <summary>What a person sees: the Phase and Status columns of <c>kubectl get cv</c>, and a Warning Event.</summary>
    private static async Task AssertShownAsync(OperatorHarness h, string volume, string reason, string inMessage)
    {
        var row = await CacheVolumeRowAsync(h, volume);
        Assert.Equal("Failed", row["Phase"]);
        Assert.Contains(inMessage, row["Status"], StringComparison.Ordinal);

        var events = await h.WaitAsync(() => EventsAsync(h), e => e.Any(x => x.InvolvedObject.Name == volume && x.Reason == reason), $"the {reason} Event of {volume}");
        var warning = events.First(x => x.InvolvedObject.Name == volume && x.Reason == reason);
        Assert.Equal("Warning", warning.Type);
        Assert.Contains(inMessage, warning.Message, StringComparison.Ordinal);
    }

    /// <summary>The row <c>kubectl get cv</c> prints, from the server-side Table it asks for.</summary>
    private static async Task<Dictionary<string, string>> CacheVolumeRowAsync(OperatorHarness h, string name)
    {
        using var http = new HttpClient { BaseAddress = h.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/apis/{CacheVolume.KubeGroup}/{CacheVolume.KubeApiVersion}/namespaces/{Ns}/{CacheVolume.KubePluralName}/{name}");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
        using var response = await http.SendAsync(request);
        var table = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var columns = table["columnDefinitions"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToList();
        var cells = table["rows"]![0]!["cells"]!.AsArray();
        return columns.Select((c, i) => (c, cells[i]?.ToString() ?? string.Empty)).ToDictionary(x => x.c, x => x.Item2, StringComparer.Ordinal);
    }

    private static Task<IReadOnlyList<Corev1Event>> EventsAsync(OperatorHarness h) => new ResourceClient<Corev1Event>(h.Kubernetes).ListAsync(Ns);

    private static V1Condition Stalled(CacheVolume volume) => volume.Status.Conditions.Single(c => c.Type == "Stalled");

    private static string? Reason(CacheVolume? volume, string type) => volume?.Status.Conditions.FirstOrDefault(c => c.Type == type && (type != "Stalled" || c.Status == "True"))?.Reason;

    private static string? Reason(BuilderPool? pool, string type) => pool?.Status.Conditions.FirstOrDefault(c => c.Type == type && c.Status == "True")?.Reason;

    private static string Message(BuilderPool pool, string type) => pool.Status.Conditions.Single(c => c.Type == type).Message;
}
