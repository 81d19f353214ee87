using System.Text.Json;
using BuildPool.Api.Schema;
using BuildPool.Api.V1Alpha1;
using BuildPool.BuildKit.Client;
using BuildPool.Host.Cluster;
using BuildPool.Host.Commands;
using BuildPool.Operator;
using BuildPool.TestDoubles;
using DotNet.Testcontainers.Configurations;
using k8s;
using Testcontainers.K3s;
using Xunit.Abstractions;

namespace BuildPool.EndToEnd.Tests;

/// <summary>
/// The whole path on a real Kubernetes: k3s in Docker, the generated CRDs, the operator (in this
/// process, against k3s's kubeconfig), the quickstart sample pool, its builder and gateway pods,
/// and builds through the gateway with a real BuildKit client when one is installed.
/// </summary>
public sealed class K3sPoolTests(ITestOutputHelper output)
{
    private const string Sample = "buildpool_v1alpha1_builderpool_quickstart.yaml";

    private const string Pool = "quickstart";

    private const string Namespace = "default";

    // Most of it is the node pulling the BuildKit image when it is not imported.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(10);

    [SkippableFact]
    public async Task The_quickstart_pool_on_k3s_becomes_Ready_and_its_gateway_serves_a_second_build_from_cache()
    {
        var environment = await K3sEnvironment.GetAsync();
        Skip.If(environment.SkipReason is not null, environment.SkipReason);

        // The reaper is another image to pull; the container is disposed here instead.
        TestcontainersSettings.ResourceReaperEnabled = false;
        await using var k3s = new K3sBuilder(environment.K3sImage).Build();
        using (var starting = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
        {
            await k3s.StartAsync(starting.Token);
        }

        if (environment.ImageInDocker)
        {
            await ImportAsync(environment, k3s, environment.Image);
        }

        using (var docker = environment.CreateDockerClient())
        {
            if (await K3sEnvironment.HasImageAsync(docker, BuilderSpec.DefaultImage))
            {
                await ImportAsync(environment, k3s, BuilderSpec.DefaultImage);
            }
        }

        var dir = Directory.CreateTempSubdirectory("buildpool-e2e-");
        try
        {
            var kubeconfig = Path.Combine(dir.FullName, "kubeconfig");
            await File.WriteAllTextAsync(kubeconfig, await k3s.GetKubeconfigAsync());
            var cluster = ClusterConnection.Load(kubeconfig, null);
            using var client = new Kubernetes(cluster);
            var applier = new ManifestApplier(client, CrdGenerator.Generate());
            Assert.Equal(4, await applier.ApplyCrdsAsync(CancellationToken.None));

            await using var connector = new PortForwardBuilderConnector(client);
            using var stop = new CancellationTokenSource();
            var options = new OperatorOptions { GatewayImage = environment.Image, GatewayReplicas = 1 };
            var operatorRun = OperatorRunner.RunAsync(new OperatorRunner.Settings(cluster, options, "127.0.0.1:0", false, Namespace, "e2e", connector), stop.Token);
            try
            {
                var samples = Directory.CreateDirectory(Path.Combine(dir.FullName, "samples"));
                File.Copy(Path.Combine(RepositoryPaths.Samples, Sample), Path.Combine(samples.FullName, Sample));

                // A CRD serves its kind a moment after it is created.
                await Eventually.WaitAsync(() => applier.ApplyDirectoryAsync(samples.FullName, Namespace, CancellationToken.None), a => a.Count == 1,
                    "the sample pool to be accepted", TimeSpan.FromMinutes(1));

                var pool = await WaitForReadyAsync(client, operatorRun);
                output.WriteLine($"pool Ready: {pool.Status.ReadyBuilders} builders, endpoint {pool.Status.Endpoint}");
                Assert.Equal($"tcp://{Pool}.{Namespace}.svc:1234", pool.Status.Endpoint);

                await using var gateway = new PodPortForward(client, Namespace, $"app.kubernetes.io/component=gateway,buildpool.dev/pool={Pool}", 1234);
                using (var direct = new BuildKitClient(gateway.Address))
                {
                    Assert.NotEmpty(await direct.ListWorkersAsync());
                }

                await BuildTwiceAsync(gateway.Address, dir);
            }
            finally
            {
                await stop.CancelAsync();
                await operatorRun;
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // docker save, copy into the node, import into the containerd namespace kubelet uses: the
    // images exist nowhere a registry could serve them from.
    private async Task ImportAsync(K3sEnvironment environment, K3sContainer k3s, string image)
    {
        using var docker = environment.CreateDockerClient();
        using var buffer = new MemoryStream();
        await using (var saved = await docker.Images.SaveImageAsync(image))
        {
            await saved.CopyToAsync(buffer);
        }

        await k3s.CopyAsync(buffer.ToArray(), "/tmp/image.tar");
        var import = await k3s.ExecAsync(["k3s", "ctr", "-n", "k8s.io", "images", "import", "/tmp/image.tar"]);
        Assert.True(import.ExitCode == 0, $"importing {image} into k3s failed: {import.Stderr}");
        output.WriteLine($"imported {image} into k3s ({buffer.Length / (1024 * 1024)} MiB)");
    }

    private static async Task<BuilderPool> WaitForReadyAsync(Kubernetes client, Task operatorRun)
    {
        try
        {
            return await Eventually.WaitAsync(
                async () =>
                {
                    if (operatorRun.IsCompleted)
                    {
                        await operatorRun;
                        throw new InvalidOperationException("the operator stopped");
                    }

                    var found = (JsonElement)await client.CustomObjects.GetNamespacedCustomObjectAsync("buildpool.dev", "v1alpha1", Namespace, "builderpools", Pool);
                    return KubernetesJson.Deserialize<BuilderPool>(found.GetRawText());
                },
                p => p.Status.ObservedGeneration == p.Metadata.Generation
                    && p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True"),
                $"BuilderPool {Pool} to be Ready",
                ReadyTimeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{await DescribeAsync(client)}", ex);
        }
    }

    // What a person would look at with kubectl get/describe when the pool never got Ready.
    private static async Task<string> DescribeAsync(Kubernetes client)
    {
        var pool = (JsonElement)await client.CustomObjects.GetNamespacedCustomObjectAsync("buildpool.dev", "v1alpha1", Namespace, "builderpools", Pool);
        var pods = await client.CoreV1.ListNamespacedPodAsync(Namespace);
        var events = await client.CoreV1.ListNamespacedEventAsync(Namespace);
        return string.Join('\n', [
            $"pool status: {(pool.TryGetProperty("status", out var status) ? status.GetRawText() : "none")}",
            .. pods.Items.Select(p => $"pod {p.Metadata.Name}: {p.Status.Phase} {string.Join("; ", (p.Status.ContainerStatuses ?? []).Select(c => $"{c.Name} ready={c.Ready} {c.State?.Waiting?.Reason} {c.State?.Waiting?.Message}"))}"),
            .. events.Items.TakeLast(30).Select(e => $"event {e.InvolvedObject.Kind}/{e.InvolvedObject.Name}: {e.Reason} {e.Message}"),
        ]);
    }

    // The quickstart's step 6 with whichever BuildKit client this machine has.
    private async Task BuildTwiceAsync(string gateway, DirectoryInfo dir)
    {
        var context = Directory.CreateDirectory(Path.Combine(dir.FullName, "hello"));
        await File.WriteAllTextAsync(Path.Combine(context.FullName, "hello.txt"), "hello from the pool\n");

        // FROM scratch: nothing to pull, so the build needs no registry.
        await File.WriteAllTextAsync(Path.Combine(context.FullName, "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
        var timeout = TimeSpan.FromMinutes(3);

        if (await ClientProcess.RunAsync("docker", ["buildx", "version"], timeout) is { ExitCode: 0 })
        {
            var builder = $"buildpool-e2e-{Guid.NewGuid():N}"[..24];
            var created = await ClientProcess.RunAsync("docker", ["buildx", "create", "--name", builder, "--driver", "remote", gateway], timeout);
            Assert.True(created is { ExitCode: 0 }, $"docker buildx create: {created}");
            try
            {
                string[] build = ["buildx", "build", "--builder", builder, "--progress=plain", context.FullName];
                var first = await ClientProcess.RunAsync("docker", build, timeout);
                Assert.True(first is { ExitCode: 0 }, $"first build: {first}");
                var second = await ClientProcess.RunAsync("docker", build, timeout);
                Assert.True(second is { ExitCode: 0 } && second.Output.Contains("CACHED", StringComparison.Ordinal), $"second build, expected CACHED steps: {second}");
                output.WriteLine(second.Output);
            }
            finally
            {
                await ClientProcess.RunAsync("docker", ["buildx", "rm", builder], timeout);
            }

            return;
        }

        if (await ClientProcess.RunAsync("buildctl", ["--version"], timeout) is { ExitCode: 0 })
        {
            string[] build = ["--addr", gateway, "build", "--frontend", "dockerfile.v0", "--local", $"context={context.FullName}", "--local", $"dockerfile={context.FullName}", "--progress=plain"];
            var first = await ClientProcess.RunAsync("buildctl", build, timeout);
            Assert.True(first is { ExitCode: 0 }, $"first build: {first}");
            var second = await ClientProcess.RunAsync("buildctl", build, timeout);
            Assert.True(second is { ExitCode: 0 } && second.Output.Contains("CACHED", StringComparison.Ordinal), $"second build, expected CACHED steps: {second}");
            output.WriteLine(second.Output);
            return;
        }

        output.WriteLine("No BuildKit client (docker buildx or buildctl) on PATH: the gateway was checked with ListWorkers only.");
    }
}
