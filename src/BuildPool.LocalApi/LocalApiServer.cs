using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Discovery;
using BuildPool.LocalApi.Http;
using BuildPool.LocalApi.Json;
using BuildPool.LocalApi.Storage;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildPool.LocalApi;

/// <summary>
/// An in-process Kubernetes API server emulator over plain HTTP on 127.0.0.1: enough of the
/// REST API (discovery, CRUD, patch, watch, tables, CRD schema validation, finalizers, garbage
/// collection) for the real KubernetesClient and kubectl. Used by integration tests and as the
/// local cluster of <c>make run</c>.
/// </summary>
public sealed class LocalApiServer : IAsyncDisposable
{
    private readonly LocalApiOptions _options;
    private readonly ResourceRegistry _registry;
    private readonly ObjectStore _store;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _dirty = new(0, 1);
    private Task _saver = Task.CompletedTask;
    private WebApplication? _app;
    private Uri? _baseAddress;

    /// <summary>Creates a stopped server; call <see cref="StartAsync"/>.</summary>
    public LocalApiServer(LocalApiOptions? options = null)
    {
        _options = options ?? new LocalApiOptions();
        _registry = new ResourceRegistry(_options.KubernetesVersion);
        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("BuildPool.LocalApi");
        var seed = _options.RandomSeed;
        _store = new ObjectStore(_registry, _options.TimeProvider, seed is { } s ? new Random(s) : new Random(), _options.WatchHistoryLimit);
        Faults = new FaultInjector(_store, _options.TimeProvider, seed is { } f ? new Random(f + 1) : new Random());
    }

    /// <summary>Fault injection: conflict and server-error rates, dropped watches, forced 410s.</summary>
    public FaultInjector Faults { get; }

    /// <summary>Request counters by verb and resource.</summary>
    public RequestStats Stats { get; } = new();

    /// <summary>The current global resourceVersion.</summary>
    public long ResourceVersion => _store.Revision;

    /// <summary>Watches currently open.</summary>
    public int OpenWatches => _store.OpenWatches;

    /// <summary><c>http://127.0.0.1:port/</c>; only valid after <see cref="StartAsync"/>.</summary>
    public Uri BaseAddress => _baseAddress ?? throw new InvalidOperationException("The server has not been started.");

    /// <summary>Loads CRDs and saved state, then starts listening.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The server is already started.");
        }

        await LoadStateAsync(cancellationToken);
        await LoadCrdsAsync(cancellationToken);
        if (_options.DataFile is not null)
        {
            _store.Written += _ => MarkDirty();
            _saver = SaveLoopAsync(_stopping.Token);
        }

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, _options.Port);
            k.AddServerHeader = false;
        });
        if (_options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }
        else
        {
            builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        }

        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        var app = builder.Build();
        var handler = new ApiHandler(_registry, _store, Faults, Stats, _options, () => _baseAddress?.Authority ?? "", _logger, _stopping.Token);
        app.Run(handler.HandleAsync);
        await app.StartAsync(cancellationToken);
        _app = app;

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel did not report a listening address.");
        var port = new Uri(address).Port;
        _baseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        Log.Listening(_logger, _baseAddress.ToString());
    }

    /// <summary>A KubernetesClient wired to this server.</summary>
    public Kubernetes CreateClient() => new(new KubernetesClientConfiguration { Host = BaseAddress.ToString().TrimEnd('/') });

    /// <summary>
    /// Writes a kubeconfig (context <c>buildpool-local</c>, namespace <c>default</c>) pointing at this server.
    /// The server checks no credentials; the token is there because KubernetesClient refuses a user without any.
    /// </summary>
    public void WriteKubeconfig(string path, string contextName = "buildpool-local")
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var server = BaseAddress.ToString().TrimEnd('/');
        File.WriteAllText(path, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {{contextName}}
              cluster:
                server: {{server}}
            contexts:
            - name: {{contextName}}
              context:
                cluster: {{contextName}}
                user: {{contextName}}
                namespace: default
            current-context: {{contextName}}
            users:
            - name: {{contextName}}
              user:
                token: local-development
            preferences: {}

            """);
    }

    /// <summary>Registers CRDs from YAML text (one or more documents) as if they had been created through the API.</summary>
    public int ApplyCrdYaml(string yaml)
    {
        var count = 0;
        foreach (var doc in YamlJson.ParseDocuments(yaml).OfType<JsonObject>())
        {
            if (JsonUtil.Str(doc["kind"]) != "CustomResourceDefinition")
            {
                continue;
            }

            var name = JsonUtil.Name(doc) ?? "";
            try
            {
                _store.Create(_registry.Crds, null, doc, WriteOptions.Default);
            }
            catch (ApiException e) when (e.Code == 409)
            {
                _store.Update(_registry.Crds, null, name, null, current =>
                {
                    JsonUtil.Metadata(doc)["resourceVersion"] = JsonUtil.ResourceVersion(current);
                    return doc;
                }, WriteOptions.Default);
            }

            count++;
        }

        return count;
    }

    /// <summary>Writes all objects to <see cref="LocalApiOptions.DataFile"/>, if set.</summary>
    public async Task SaveAsync(CancellationToken cancellationToken = default)
    {
        if (_options.DataFile is not { } file)
        {
            return;
        }

        var temp = file + ".tmp";
        await File.WriteAllBytesAsync(temp, JsonSerializer.SerializeToUtf8Bytes(_store.Export()), cancellationToken);
        File.Move(temp, file, overwrite: true);
    }

    private void MarkDirty()
    {
        try
        {
            _dirty.Release();
        }
        catch (SemaphoreFullException)
        {
            // A save is already pending; it will include this write.
        }
    }

    /// <summary>Saves shortly after writes, so state survives a process that is killed rather than disposed.</summary>
    private async Task SaveLoopAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await _dirty.WaitAsync(ct);
                await Task.Delay(TimeSpan.FromMilliseconds(500), _options.TimeProvider, ct);
                try
                {
                    await SaveAsync(ct);
                }
                catch (IOException e)
                {
                    Log.SaveFailed(_logger, e, _options.DataFile ?? "");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping; DisposeAsync does the final save.
        }
    }

    private async Task LoadStateAsync(CancellationToken ct)
    {
        if (_options.DataFile is { } file && File.Exists(file))
        {
            var text = await File.ReadAllTextAsync(file, ct);
            if (JsonNode.Parse(text) is JsonObject state)
            {
                _store.Import(state);
            }
        }
    }

    private async Task LoadCrdsAsync(CancellationToken ct)
    {
        if (_options.CrdDirectory is not { } dir)
        {
            return;
        }

        var count = 0;
        var files = Directory.EnumerateFiles(dir, "*.yaml", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(dir, "*.yml", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            count += ApplyCrdYaml(await File.ReadAllTextAsync(file, ct));
        }

        Log.LoadedCrds(_logger, count, dir);
    }

    /// <summary>Ends open watches, stops listening and saves state when a data file is configured.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _saver;
        _store.DropWatches();
        Faults.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }

        try
        {
            await SaveAsync();
        }
        catch (IOException e)
        {
            Log.SaveFailed(_logger, e, _options.DataFile ?? "");
        }

        _stopping.Dispose();
        _dirty.Dispose();
    }
}
