using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Signals;
using BuildPool.Operator.Tests.Signals;
using BuildPool.Operator.Volumes;
using k8s.Models;

namespace BuildPool.Operator.Tests.Volumes;

public sealed class BuilderScalingTests
{
    private static readonly DateTime Now = new(2026, 11, 22, 12, 0, 0, DateTimeKind.Utc);
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);

    /// <summary>A volume and what the gateway's signals say of it.</summary>
    private static (CacheVolume Volume, VolumeSignals Signals) Volume(string name, int active = 0, DateTime? demand = null, DateTime? lastUsed = null)
    {
        var signals = new List<KeyValuePair<string, string>>();
        if (demand is { } d)
        {
            signals.Add(GatewaySignals.Start(name, d));
        }

        if (lastUsed is { } u)
        {
            signals.Add(GatewaySignals.Used(name, u));
        }

        var volume = new CacheVolume
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new CacheVolumeSpec { Pool = "ci" },
            Status = new CacheVolumeStatus { ActiveBuilds = active },
        };
        return (volume, TestSignals.For(name, [.. signals]));
    }

    private static BuilderScaling.Decision Decide((CacheVolume Volume, VolumeSignals Signals) volume, int warm = 1)
    {
        var pool = new BuilderPool { Spec = new BuilderPoolSpec { Scaling = new ScalingSpec { WarmBuilders = warm } } };
        var all = new[] { "ci-0", "ci-1", "ci-2" }.Select(n => n == volume.Volume.Metadata.Name ? volume.Volume : Volume(n).Volume).ToList();
        return BuilderScaling.Decide(volume.Volume, pool, all, volume.Signals, Idle, Now);
    }

    [Fact]
    public void The_first_warm_builders_by_name_always_run() =>
        Assert.Equal((true, "Warm"), (Decide(Volume("ci-0")).Running, Decide(Volume("ci-0")).Reason));

    [Fact]
    public void A_builder_beyond_the_warm_ones_without_use_stays_stopped() =>
        Assert.False(Decide(Volume("ci-2")).Running);

    [Fact]
    public void A_builder_with_running_builds_keeps_running() =>
        Assert.True(Decide(Volume("ci-2", active: 1)).Running);

    [Fact]
    public void Gateway_demand_starts_a_stopped_builder_and_rechecks_when_the_idle_timeout_would_end()
    {
        var decision = Decide(Volume("ci-2", demand: Now.AddMinutes(-10)));
        Assert.True(decision.Running);
        Assert.Equal(TimeSpan.FromMinutes(20), decision.RecheckAfter);
    }

    [Fact]
    public void A_builder_unused_for_longer_than_the_idle_timeout_stops() =>
        Assert.False(Decide(Volume("ci-2", lastUsed: Now.AddMinutes(-31))).Running);

    [Fact]
    public void The_later_of_demand_and_last_use_counts() =>
        Assert.True(Decide(Volume("ci-2", demand: Now.AddHours(-2), lastUsed: Now.AddMinutes(-5))).Running);

    [Fact]
    public void With_no_warm_builders_every_idle_builder_stops() =>
        Assert.False(Decide(Volume("ci-0"), warm: 0).Running);
}
