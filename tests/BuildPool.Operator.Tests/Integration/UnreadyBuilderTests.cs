using System.Collections.Concurrent;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Integration;

public sealed class UnreadyBuilderTests
{
    private const string Ns = "default";

    /// <summary>Counts who the operator dials, then dials the test daemon.</summary>
    private sealed class CountingConnector(string address) : IBuilderConnector
    {
        private readonly FixedBuilderConnector _inner = new(address);

        public ConcurrentBag<string> Dialled { get; } = [];

        public BuildKitClient Connect(CacheVolume volume)
        {
            Dialled.Add(volume.Metadata.Name);
            return _inner.Connect(volume);
        }
    }

    [Fact]
    public async Task Deleting_a_volume_whose_builder_never_became_ready_stops_it_at_once_without_dialling_it()
    {
        await using var h = await OperatorHarness.StartAsync(startOperator: false);
        var connector = new CountingConnector(h.Daemon.Address);
        h.StartOperator(new OperatorOptions { DrainPollInterval = TimeSpan.FromMilliseconds(200), ProbeInterval = TimeSpan.FromSeconds(1) }, connector: connector);
        await h.Pools.CreateAsync(new BuilderPool
        {
            Metadata = new V1ObjectMeta { Name = "pending", NamespaceProperty = Ns },
            Spec = new BuilderPoolSpec
            {
                Assignment = new AssignmentSpec { Mode = AssignmentMode.Hashed, Volumes = 1 },
                Scaling = new ScalingSpec { WarmBuilders = 1 },
            },
        });
        var volume = (await h.WaitAsync(() => h.Volumes.ListAsync(Ns), v => v.Count == 1, "the pool's volume"))[0];
        var builder = await h.WaitAsync(() => h.Deployments.GetAsync(Ns, $"{volume.Metadata.Name}-builder"), d => d is not null, "the builder Deployment");
        // Its pod is scheduled but Pending: counted in replicas, never ready.
        builder!.Status = new V1DeploymentStatus { Replicas = 1, ReadyReplicas = 0, UnavailableReplicas = 1, ObservedGeneration = builder.Metadata.Generation };
        await h.Deployments.ReplaceStatusAsync(builder);
        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, volume.Metadata.Name), v => v?.Status.Phase == CacheVolumePhase.Starting, "the volume to wait for its builder");

        await h.Volumes.DeleteAsync(Ns, volume.Metadata.Name);

        await h.WaitAsync(() => h.Volumes.GetAsync(Ns, volume.Metadata.Name), v => v is null || v.Metadata.Uid != volume.Metadata.Uid,
            "the volume to go", TimeSpan.FromSeconds(15));
        Assert.DoesNotContain(volume.Metadata.Name, connector.Dialled);
    }
}
