using System.Net;
using System.Runtime.InteropServices;
using BuildPool.TestDoubles;

// buildkitd's command line as the builder pod passes it: --addr (repeatable; the tcp:// one is
// served), --config (its [grpc.tls] files turn TLS on), --root (locked, holds the build cache).
// Other flags (--oci-worker-no-process-sandbox, ...) are accepted and ignored.
string? tcp = null, config = null, root = null;
for (var i = 0; i + 1 < args.Length; i++)
{
    switch (args[i])
    {
        case "--addr" when args[i + 1].StartsWith("tcp://", StringComparison.Ordinal):
            tcp = args[++i];
            break;
        case "--config":
            config = args[++i];
            break;
        case "--root":
            root = args[++i];
            break;
    }
}

if (tcp is null || root is null)
{
    await Console.Error.WriteLineAsync("buildkitd (fake): give --addr tcp://host:port and --root DIR");
    return 1;
}

Directory.CreateDirectory(root);
FileStream lockFile;
try
{
    // FileShare.None is an exclusive flock on Unix: one daemon per root, as buildkitd enforces.
    lockFile = new FileStream(Path.Combine(root, "buildkitd.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
}
catch (IOException)
{
    await Console.Error.WriteLineAsync($"buildkitd: could not lock {Path.Combine(root, "buildkitd.lock")}, another instance running?");
    return 1;
}

await using (lockFile)
{
    FakeBuilderTls? tls = null;
    if (config is not null)
    {
        if (!File.Exists(config))
        {
            await Console.Error.WriteLineAsync($"buildkitd: failed to load config {config}: no such file");
            return 1;
        }

        tls = FakeBuildkitdConfig.Tls(await File.ReadAllTextAsync(config));
    }

    var uri = new Uri(tcp);
    var listen = new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
    await using var daemon = await FakeBuildKitDaemon.StartAsync("fake-" + Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(root).TrimEnd('/'))), Environment.MachineName, tls, listen);
    // The build cache: a step built once on this root is cached from then on, across restarts.
    var cache = new FakeBuildkitdCache(Path.Combine(root, "fake-cache"));
    daemon.Builds.Steps = cache.Mark(daemon.Builds.Steps);
    daemon.Builds.Solved = steps =>
    {
        cache.Add(steps);
        daemon.Builds.Steps = cache.Mark(steps);
    };
    await Console.Error.WriteLineAsync($"running server on {tcp} (root {root})");

    var stop = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
    using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(0); });
    using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(0); });
    await stop.Task;
    await Console.Error.WriteLineAsync("stopping server");
}

return 0;
