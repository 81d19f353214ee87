using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using BuildPool.TestDoubles;
using k8s.Models;

namespace BuildPool.Operator.Tests.Registry;

/// <summary>
/// Debian's <c>docker-registry</c> (the distribution registry) started on 127.0.0.1 with
/// filesystem storage in a temporary directory, deletes enabled unless asked otherwise, and
/// htpasswd auth when a user is given (needs <c>htpasswd</c> from apache2-utils for the bcrypt hash).
/// </summary>
internal sealed class RealRegistry : IAsyncDisposable
{
    public const string InstallHint = "install it with `apt-get install docker-registry` (.ci/run does)";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log = new();

    private RealRegistry(Process process, string directory, string host, RegistryAuthForTests? auth)
    {
        _process = process;
        _directory = directory;
        Host = host;
        Auth = auth;
    }

    public static string? BinaryPath { get; } = Find("docker-registry") ?? Find("registry");

    public static string? HtpasswdPath { get; } = Find("htpasswd");

    public string Host { get; }

    public int Port => int.Parse(Host[(Host.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    public RegistryAuthForTests? Auth { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<RealRegistry> StartAsync(bool deleteEnabled = true, RegistryAuthForTests? auth = null)
    {
        // The free port is found by binding and releasing it, so another process (a parallel test)
        // can take it before the registry binds it: start again on another port when that happens.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnFreePortAsync(deleteEnabled, auth);
            }
            catch (PortTakenException) when (attempt < 5)
            {
            }
        }
    }

    private static async Task<RealRegistry> StartOnFreePortAsync(bool deleteEnabled, RegistryAuthForTests? auth)
    {
        var directory = Directory.CreateTempSubdirectory("buildpool-registry-").FullName;
        var port = FreePort();
        var config = new StringBuilder($"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {directory}/data
              delete:
                enabled: {(deleteEnabled ? "true" : "false")}
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{port}
              secret: buildpool-test-secret

            """);
        if (auth is not null)
        {
            var htpasswd = Path.Combine(directory, "htpasswd");
            await File.WriteAllTextAsync(htpasswd, await HashAsync(auth.User, auth.Password));
            config.Append($"""
                auth:
                  htpasswd:
                    realm: buildpool-test
                    path: {htpasswd}

                """);
        }

        var configPath = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());
        return await LaunchAsync(directory, configPath, [], port, auth);
    }

    /// <summary>
    /// Runs a registry container of <paramref name="deployment"/> as a kubelet would, on a free
    /// loopback port: its ConfigMap, Secret and projected volumes written to files, every mount
    /// path in its configuration and environment replaced by where that volume's files are, and
    /// the configuration file its command names (the image's own file when it names none and no
    /// volume is mounted over it).
    /// </summary>
    /// <param name="container">Which container of the pod.</param>
    /// <param name="volumes">
    /// Where the pod's volumes are, so two containers of one pod share them (its claim's data
    /// above all); the caller deletes it. Null: a directory of this registry's own.
    /// </param>
    public static async Task<RealRegistry> StartPodAsync(V1Deployment deployment, Func<string, V1ConfigMap?> configMap, Func<string, V1Secret?> secret, string container = "registry", string? volumes = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartPodOnFreePortAsync(deployment, configMap, secret, container, volumes);
            }
            catch (PortTakenException) when (attempt < 5)
            {
            }
        }
    }

    private static async Task<RealRegistry> StartPodOnFreePortAsync(V1Deployment deployment, Func<string, V1ConfigMap?> configMap, Func<string, V1Secret?> secret, string containerName, string? volumes)
    {
        var pod = deployment.Spec.Template.Spec;
        var container = pod.Containers.Single(c => c.Name == containerName);
        var directory = Directory.CreateTempSubdirectory("buildpool-registry-pod-").FullName;
        var volumesRoot = volumes ?? Path.Combine(directory, "volumes");
        var mounts = new List<(string MountPath, string Local)>();
        foreach (var mount in container.VolumeMounts ?? [])
        {
            var volume = pod.Volumes.Single(v => v.Name == mount.Name);
            var local = Path.Combine(volumesRoot, volume.Name);
            Directory.CreateDirectory(local);
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            if (volume.ConfigMap is { } c)
            {
                foreach (var (key, value) in (configMap(c.Name) ?? throw new InvalidOperationException($"ConfigMap {c.Name} is missing")).Data)
                {
                    files[key] = Encoding.UTF8.GetBytes(value);
                }
            }
            else if (volume.Secret is { } s)
            {
                foreach (var (key, value) in (secret(s.SecretName) ?? throw new InvalidOperationException($"Secret {s.SecretName} is missing")).Data)
                {
                    files[key] = value;
                }
            }
            else if (volume.Projected is not null || volume.PersistentVolumeClaim is null && volume.EmptyDir is null)
            {
                throw new NotSupportedException($"volume {volume.Name}: only ConfigMap, Secret, claim and emptyDir volumes are played here");
            }

            foreach (var (key, value) in files)
            {
                await File.WriteAllBytesAsync(Path.Combine(local, key), value);
            }

            mounts.Add((mount.MountPath.TrimEnd('/'), local));
        }

        // One pass, whole paths only: /tmp must not rewrite a local path that has just been put in.
        var paths = new Regex(
            "(?<![\\w./-])(" + string.Join('|', mounts.OrderByDescending(m => m.MountPath.Length).Select(m => Regex.Escape(m.MountPath))) + ")(?=/|$|[^\\w.-])",
            RegexOptions.Multiline | RegexOptions.CultureInvariant);
        string Local(string text) => paths.Replace(text, m => mounts.First(x => x.MountPath == m.Groups[1].Value).Local);

        // The registry image reads /etc/docker/registry/config.yml unless its command names
        // another file; without a volume over the file, its own.
        var imageConfigPath = (container.Command ?? []).Concat(container.Args ?? []).LastOrDefault(a => a.EndsWith(".yml", StringComparison.Ordinal)) ?? ImageConfigPath;
        var mounted = mounts.FirstOrDefault(m => imageConfigPath.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
        var configText = mounted.Local is not null ? await File.ReadAllTextAsync(Local(imageConfigPath))
            : imageConfigPath == ImageConfigPath ? ImageConfig
            : throw new InvalidOperationException($"container {containerName} serves {imageConfigPath}, which no volume holds");
        var configPath = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(configPath, Local(configText));
        var port = FreePort();
        var env = (container.Env ?? []).Select(e => KeyValuePair.Create(e.Name, Local(e.Value ?? string.Empty)))
            .Append(KeyValuePair.Create("REGISTRY_HTTP_ADDR", $"127.0.0.1:{port}"));
        return await LaunchAsync(directory, configPath, env, port, auth: null);
    }

    /// <summary>Where the registry image reads its configuration.</summary>
    private const string ImageConfigPath = "/etc/docker/registry/config.yml";

    /// <summary>The configuration file the registry:2 image ships (distribution's config-docker.yml).</summary>
    private const string ImageConfig = """
        version: 0.1
        log:
          fields:
            service: registry
        storage:
          cache:
            blobdescriptor: inmemory
          filesystem:
            rootdirectory: /var/lib/registry
        http:
          addr: :5000
          headers:
            X-Content-Type-Options: [nosniff]
        health:
          storagedriver:
            enabled: true
            interval: 10s
            threshold: 3

        """;

    private static async Task<RealRegistry> LaunchAsync(string directory, string configPath, IEnumerable<KeyValuePair<string, string>> env, int port, RegistryAuthForTests? auth)
    {
        var binary = BinaryPath ?? throw new InvalidOperationException($"docker-registry not found; {InstallHint}");
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        // Debian's binary takes "serve <config>"; upstream's too.
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(configPath);
        foreach (var (name, value) in env)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var registry = new RealRegistry(process, directory, $"127.0.0.1:{port}", auth);
        process.OutputDataReceived += (_, e) => registry.Append(e.Data);
        process.ErrorDataReceived += (_, e) => registry.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            // Listening is enough (it may speak TLS and want a client certificate); an exited
            // registry ends the wait instead of being retried until the timeout.
            await Eventually.WaitAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        return true;
                    }

                    using var client = new TcpClient();
                    try
                    {
                        await client.ConnectAsync(IPAddress.Loopback, port);
                        return true;
                    }
                    catch (SocketException)
                    {
                        return false;
                    }
                },
                up => up,
                "docker-registry to listen",
                TimeSpan.FromSeconds(30));
            if (process.HasExited)
            {
                await process.WaitForExitAsync(); // the last log lines
                throw registry.Log.Contains("address already in use", StringComparison.Ordinal)
                    ? new PortTakenException(registry.Log)
                    : new InvalidOperationException($"docker-registry exited with {process.ExitCode}: {registry.Log}");
            }
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }

        return registry;
    }

    /// <summary>A client for pushing test content, authenticated when the registry has a user.</summary>
    public HttpClient CreatePushClient()
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{Host}/") };
        if (Auth is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Auth.User}:{Auth.Password}")));
        }

        return http;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private static async Task<string> HashAsync(string user, string password)
    {
        var start = new ProcessStartInfo(HtpasswdPath ?? throw new InvalidOperationException("htpasswd not found; install apache2-utils"))
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-Bbn", user, password })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim() + "\n";
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Append("/usr/bin")
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private sealed class PortTakenException(string log) : Exception($"docker-registry could not bind its port: {log}");
}
