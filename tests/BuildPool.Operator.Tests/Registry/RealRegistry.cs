using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using BuildPool.TestDoubles;

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
        var binary = BinaryPath ?? throw new InvalidOperationException($"docker-registry not found; {InstallHint}");
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
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        // Debian's binary takes "serve <config>"; upstream's too.
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(configPath);
        var process = Process.Start(start)!;
        var registry = new RealRegistry(process, directory, $"127.0.0.1:{port}", auth);
        process.OutputDataReceived += (_, e) => registry.Append(e.Data);
        process.ErrorDataReceived += (_, e) => registry.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient();
        try
        {
            // An exited registry ends the wait (null) instead of being retried until the timeout.
            await Eventually.WaitAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        return (HttpStatusCode?)null;
                    }

                    using var response = await http.GetAsync(new Uri($"http://{registry.Host}/v2/"));
                    return response.StatusCode;
                },
                status => status is null or HttpStatusCode.OK or HttpStatusCode.Unauthorized,
                "docker-registry to answer",
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
