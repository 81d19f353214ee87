using System.Net;
using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Insight;
using BuildPool.Gateway.Server;
using BuildPool.Host.Commands;
using BuildPool.TestDoubles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildPool.Host.Tests;

/// <summary><c>buildpool builds</c> against a gateway's metrics routes, with builds through the gateway to a fake builder.</summary>
public sealed class BuildsCommandTests : IAsyncLifetime
{
    private FakeBuilderFleet _fleet = null!;
    private GatewayServer _gateway = null!;
    private WebApplication _pages = null!;
    private string _address = null!;

    public async Task InitializeAsync()
    {
        _fleet = await FakeBuilderFleet.StartAsync(1);
        _gateway = await GatewayServer.StartAsync(new GatewayOptions
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Backends = [.. _fleet.BackendArguments.Select(StaticBackendParser.Parse)],
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _pages = builder.Build();
        _pages.MapBuildPages(() => _gateway.Builds);
        await _pages.StartAsync();
        _address = _pages.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async Task DisposeAsync()
    {
        await _pages.DisposeAsync();
        await _gateway.DisposeAsync();
        await _fleet.DisposeAsync();
    }

    private async Task<string> BuildAsync(string project, string context)
    {
        var result = await FakeBuildxClient.For(_gateway.Address).BuildAsync(new FakeBuildxOptions { ContextName = project, Bootstrap = false, Dockerfile = FakeDockerfile.FourSteps(), ContextContentId = context });
        Assert.True(result.Succeeded, result.ToString());
        await Eventually.WaitAsync(() => _gateway.Builds.RecentBuilds.Any(b => b.Ref == result.Ref), "the build is reported");
        return result.Ref;
    }

    private async Task<(int Code, string Output, string Error)> RunAsync(BuildsCommand.BuildsQuery query, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await BuildsCommand.RunAsync(http, query, output, error, cancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Builds_of_a_key_print_oldest_first_with_builder_cached_steps_and_first_miss()
    {
        var first = await BuildAsync("app", "c1");
        var second = await BuildAsync("app", "c2");
        await BuildAsync("other", "c1");

        var (code, output, error) = await RunAsync(new(_address, null, "app", false, 20, "text"));

        Assert.True(code == BuildsCommand.Shown, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains($"[{first}]", lines[0], StringComparison.Ordinal);
        Assert.Contains("app  on builder-0", lines[1], StringComparison.Ordinal);
        Assert.Contains("cached 2/8", lines[1], StringComparison.Ordinal);
        Assert.Contains("first miss: [3/4] COPY data.txt /d (context-changed: it reads the build context", lines[1], StringComparison.Ordinal);
        Assert.Contains($"[{second}]", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_build_shows_its_steps_and_marks_the_first_miss()
    {
        await BuildAsync("app", "c1");
        var edited = await BuildAsync("app", "c2");

        var (code, output, error) = await RunAsync(new(_address, edited, null, false, 20, "text"));

        Assert.True(code == BuildsCommand.Shown, error);
        Assert.Contains("cached            0 ms  [2/4] RUN echo base-1 > /b", output, StringComparison.Ordinal);
        Assert.Matches(@"executed +\d+ ms  \[3/4\] COPY data.txt /d  <- first miss", output);
    }

    [Fact]
    public async Task Follow_prints_each_build_as_it_finishes()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var http = new HttpClient();
        using var output = new StringWriter();
        using var synchronized = TextWriter.Synchronized(output);
        var following = BuildsCommand.RunAsync(http, new(_address, null, null, true, 20, "text") { Interval = TimeSpan.FromMilliseconds(100) }, synchronized, TextWriter.Null, stop.Token);

        // The synchronized writer locks on itself, so reading under that lock sees whole lines.
        string Printed()
        {
            lock (synchronized)
            {
                return output.ToString();
            }
        }

        var first = await BuildAsync("app", "c1");
        await Eventually.WaitAsync(() => Printed().Contains(first, StringComparison.Ordinal), "the first build is printed");
        var second = await BuildAsync("app", "c2");
        await Eventually.WaitAsync(() => Printed().Contains(second, StringComparison.Ordinal), "the second build is printed");
        await stop.CancelAsync();

        Assert.Equal(BuildsCommand.Shown, await following);
        Assert.Single(Printed().Split('\n'), l => l.Contains(first, StringComparison.Ordinal));
        Assert.Contains("first miss: [3/4] COPY data.txt /d (context-changed", Printed(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_gateway_exits_1_naming_it()
    {
        var (code, _, error) = await Cli.RunAsync(Path.GetTempPath(), "builds", "--gateway", "http://127.0.0.1:1");

        Assert.Equal(BuildsCommand.Unreachable, code);
        Assert.Contains("cannot read recent builds from http://127.0.0.1:1/", error, StringComparison.Ordinal);
    }
}
