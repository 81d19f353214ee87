using Docker.DotNet;

namespace BuildPool.EndToEnd.Tests;

/// <summary>
/// What the end-to-end test needs from this machine, found out once with short timeouts: a
/// Docker daemon, the k3s image (present or pullable), and a buildpool image for the pools'
/// gateways. When something is missing, <see cref="SkipReason"/> says what and how to provide it.
/// </summary>
internal sealed class K3sEnvironment
{
    /// <summary>Overrides the k3s image, for example the same image on a registry mirror Docker can reach.</summary>
    public const string K3sImageVariable = "BUILDPOOL_E2E_K3S_IMAGE";

    /// <summary>Overrides the buildpool image the pools' gateways run.</summary>
    public const string ImageVariable = "BUILDPOOL_E2E_IMAGE";

    private const string DefaultK3sImage = "rancher/k3s:v1.31.4-k3s1";

    private const string DefaultImage = "buildpool:dev";

    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

    // Asking the registry for one manifest: long enough for a slow registry, far shorter than a
    // pull that would hang on a network that drops packets.
    private static readonly TimeSpan RegistryTimeout = TimeSpan.FromSeconds(15);

    private static readonly Lazy<Task<K3sEnvironment>> Probed = new(ProbeAsync);

    private K3sEnvironment(Uri docker, string k3sImage, string image, bool imageInDocker, string? skipReason)
    {
        Docker = docker;
        K3sImage = k3sImage;
        Image = image;
        ImageInDocker = imageInDocker;
        SkipReason = skipReason;
    }

    public Uri Docker { get; }

    public string K3sImage { get; }

    /// <summary>The buildpool image the gateways run.</summary>
    public string Image { get; }

    /// <summary>True when <see cref="Image"/> is in the local Docker and must be imported into k3s (it is on no registry).</summary>
    public bool ImageInDocker { get; }

    public string? SkipReason { get; }

    public static Task<K3sEnvironment> GetAsync() => Probed.Value;

    public DockerClient CreateDockerClient() => new DockerClientBuilder().WithEndpoint(Docker).Build();

    private static async Task<K3sEnvironment> ProbeAsync()
    {
        var docker = new Uri(Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : "unix:///var/run/docker.sock");
        var k3sImage = Environment.GetEnvironmentVariable(K3sImageVariable) is { Length: > 0 } k ? k : DefaultK3sImage;
        var imageSet = Environment.GetEnvironmentVariable(ImageVariable) is { Length: > 0 };
        var image = imageSet ? Environment.GetEnvironmentVariable(ImageVariable)! : DefaultImage;
        K3sEnvironment Skip(string reason) => new(docker, k3sImage, image, false, $"End-to-end test on k3s skipped: {reason}");

        if (docker.Scheme == "unix" && !File.Exists(docker.AbsolutePath))
        {
            return Skip($"no Docker daemon ({docker.AbsolutePath} does not exist). It needs a Docker (DOCKER_HOST) that has or can pull {k3sImage} ({K3sImageVariable} can name the same image on a mirror) and has a {image} image built from the Dockerfile ({ImageVariable} can name another).");
        }

        using var client = new DockerClientBuilder().WithEndpoint(docker).Build();
        try
        {
            using var ping = new CancellationTokenSource(PingTimeout);
            await client.System.PingAsync(ping.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The transports report a refused or dead endpoint in many shapes (aggregate, socket, I/O, cancel).
            var why = ex is OperationCanceledException ? $"no answer within {PingTimeout.TotalSeconds:0} s" : Reason(ex);
            return Skip($"Docker at {docker} is not usable ({why}). Start Docker or point DOCKER_HOST at one.");
        }

        if (!await HasImageAsync(client, k3sImage))
        {
            try
            {
                using var registry = new CancellationTokenSource(RegistryTimeout);
                await client.Distribution.InspectAsync(k3sImage, registry.Token);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var why = ex is OperationCanceledException ? $"no answer from its registry within {RegistryTimeout.TotalSeconds:0} s" : Reason(ex);
                return Skip($"Docker cannot pull {k3sImage}: {why}. Pull or load that image into Docker beforehand, or set {K3sImageVariable} to the same image on a registry mirror this Docker can reach.");
            }
        }

        var imageInDocker = await HasImageAsync(client, image);
        if (!imageInDocker && !imageSet)
        {
            return Skip($"no {image} image in Docker for the pools' gateways. Build it first (docker build -t {image} .), or set {ImageVariable} to a buildpool image the k3s node can pull.");
        }

        return new K3sEnvironment(docker, k3sImage, image, imageInDocker, null);
    }

    private static string Reason(Exception ex) => ex.GetBaseException().Message.Trim().TrimEnd('.');

    public static async Task<bool> HasImageAsync(DockerClient client, string image)
    {
        try
        {
            using var timeout = new CancellationTokenSource(PingTimeout);
            await client.Images.InspectImageAsync(image, timeout.Token);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }
}
