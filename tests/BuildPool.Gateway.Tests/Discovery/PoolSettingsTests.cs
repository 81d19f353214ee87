using BuildPool.Api.V1Alpha1;
using BuildPool.Gateway.Discovery;
using k8s.Models;
using Mode = BuildPool.Gateway.Routing.AssignmentMode;
using Source = BuildPool.Gateway.Routing.RoutingKeySource;

namespace BuildPool.Gateway.Tests.Discovery;

public sealed class PoolSettingsTests
{
    [Fact]
    public void The_pool_spec_supplies_routing_admission_and_start_settings()
    {
        var pool = Pool(spec =>
        {
            spec.Routing.KeySources = [Api.V1Alpha1.RoutingKeySource.CacheRef, Api.V1Alpha1.RoutingKeySource.SessionDirectory];
            spec.Routing.Domain = " builds.example.test ";
            spec.Routing.BoundedLoadFactor = 1.5;
            spec.Routing.QueueTimeout = "1m30s";
            spec.Builder.MaxConcurrentBuilds = 8;
            spec.Assignment.Mode = Api.V1Alpha1.AssignmentMode.Dedicated;
            spec.Scaling.StartTimeout = "45s";
            spec.Cache.Sharing = CacheSharing.Locked;
        });

        var settings = PoolSettings.From(pool);

        Assert.Equal([Source.CacheRef, Source.SessionDirectory], settings.KeySources);
        Assert.Equal("builds.example.test", settings.Domain);
        Assert.Equal(1.5, settings.BoundedLoadFactor);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.QueueTimeout);
        Assert.Equal(8, settings.MaxConcurrentBuilds);
        Assert.Equal(Mode.Dedicated, settings.Mode);
        Assert.Equal(TimeSpan.FromSeconds(45), settings.StartTimeout);
        Assert.Equal(CacheSharing.Locked, settings.Sharing);
    }

    [Fact]
    public void Defaults_of_an_empty_spec_match_the_api_defaults()
    {
        var settings = PoolSettings.From(Pool(_ => { }));

        Assert.Equal(TimeSpan.FromMinutes(2), settings.StartTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.QueueTimeout);
        Assert.Equal(4, settings.MaxConcurrentBuilds);
        Assert.Equal(Mode.Hashed, settings.Mode);
    }

    [Theory]
    [InlineData("spec.scaling.startTimeout", "2 minutes")]
    [InlineData("spec.scaling.startTimeout", "0s")]
    [InlineData("spec.routing.queueTimeout", "5d")]
    public void An_unusable_duration_names_its_field(string field, string value)
    {
        var pool = Pool(spec =>
        {
            if (field.Contains("scaling", StringComparison.Ordinal))
            {
                spec.Scaling.StartTimeout = value;
            }
            else
            {
                spec.Routing.QueueTimeout = value;
            }
        });

        var error = Assert.Throws<FormatException>(() => PoolSettings.From(pool));

        Assert.StartsWith(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_routing_settings_need_a_restart()
    {
        var before = PoolSettings.From(Pool(_ => { }));

        Assert.False(before.NeedsRestartFor(before with { StartTimeout = TimeSpan.FromSeconds(5), MaxConcurrentBuilds = 9, Sharing = CacheSharing.Locked }));
        Assert.True(before.NeedsRestartFor(before with { Mode = Mode.Dedicated }));
        Assert.True(before.NeedsRestartFor(before with { KeySources = [Source.SessionDirectory] }));
    }

    private static BuilderPool Pool(Action<BuilderPoolSpec> configure)
    {
        var spec = new BuilderPoolSpec();
        configure(spec);
        return new BuilderPool { Metadata = new V1ObjectMeta { Name = "pool", NamespaceProperty = "ci" }, Spec = spec };
    }
}
