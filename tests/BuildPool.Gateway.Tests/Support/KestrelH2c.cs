using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Tests.Support;

/// <summary>A real Kestrel server speaking cleartext HTTP/2 (prior knowledge) on a free loopback port.</summary>
internal sealed class KestrelH2c : IAsyncDisposable
{
    private KestrelH2c(WebApplication app, int port)
    {
        App = app;
        Port = port;
    }

    public WebApplication App { get; }

    public int Port { get; }

    public DnsEndPoint EndPoint => new("127.0.0.1", Port);

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public static async Task<KestrelH2c> StartAsync(Action<WebApplication> map, Action<KestrelServerOptions>? configure = null, Action<IServiceCollection>? services = null, Action<ListenOptions>? listen = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        builder.WebHost.ConfigureKestrel(options =>
        {
            // Port 0 picks a free port; Kestrel only allows that on an explicit address, not "localhost".
            options.Listen(IPAddress.Loopback, 0, listenOptions =>
            {
                listenOptions.Protocols = HttpProtocols.Http2;
                listen?.Invoke(listenOptions);
            });
            configure?.Invoke(options);
        });
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new KestrelH2c(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}
