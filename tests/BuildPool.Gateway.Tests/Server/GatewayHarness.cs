using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Server;
using BuildPool.TestDoubles;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Tests.Server;

/// <summary>N fake builders behind an in-process gateway on 127.0.0.1:0 with static backends, and a buildx-like client.</summary>
internal sealed class GatewayHarness : IAsyncDisposable
{
    private GatewayHarness(FakeBuilderFleet fleet, GatewayServer gateway, IReadOnlyList<StaticBackend> backends)
    {
        Fleet = fleet;
        Gateway = gateway;
        Backends = backends;
        Client = FakeBuildxClient.For(gateway.Address);
    }

    public FakeBuilderFleet Fleet { get; }

    public GatewayServer Gateway { get; }

    /// <summary>The backends the gateway started with, parsed from the fleet's <c>--backend</c> arguments.</summary>
    public IReadOnlyList<StaticBackend> Backends { get; }

    public FakeBuildxClient Client { get; }

    public static async Task<GatewayHarness> StartAsync(
        int builders = 4,
        Func<GatewayOptions, GatewayOptions>? configure = null,
        Func<StaticBackend, StaticBackend>? backend = null,
        Support.CapturedLogs? logging = null)
    {
        var fleet = await FakeBuilderFleet.StartAsync(builders);
        try
        {
            var backends = fleet.BackendArguments.Select(StaticBackendParser.Parse).Select(backend ?? (b => b)).ToList();
            var options = new GatewayOptions
            {
                Listen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
                Backends = backends,
                ShutdownTimeout = TimeSpan.FromSeconds(5),
            };
            var gateway = await GatewayServer.StartAsync(
                configure?.Invoke(options) ?? options,
                configureLogging: logging is null ? null : builder => builder.AddProvider(logging));
            return new GatewayHarness(fleet, gateway, backends);
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>A plain buildx build of the project whose context directory is <paramref name="project"/>.</summary>
    public static FakeBuildxOptions Project(string project) => new() { ContextName = project, Bootstrap = false };

    /// <summary>The builder a key goes to now, as placement sees it.</summary>
    public string HomeOf(string key) => Gateway.Placement.Place(key).Backend!.Id;

    /// <summary>A project name whose builds go to <paramref name="builder"/>.</summary>
    public string ProjectOn(string builder, string prefix = "project")
    {
        for (var i = 0; ; i++)
        {
            var candidate = $"{prefix}-{i}";
            if (HomeOf(candidate) == builder)
            {
                return candidate;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fleet.ReleaseAll();
        await Gateway.DisposeAsync();
        await Fleet.DisposeAsync();
    }
}
