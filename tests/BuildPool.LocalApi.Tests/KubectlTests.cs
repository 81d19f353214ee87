using System.Collections.Concurrent;
using BuildPool.LocalApi.Tests.TestSupport;
using BuildPool.TestDoubles;
using k8s;

namespace BuildPool.LocalApi.Tests;

/// <summary>The real kubectl against the emulator, through the kubeconfig it writes.</summary>
public sealed class KubectlTests : ServerTest, IDisposable
{
    private const string PoolYaml = """
        apiVersion: test.buildpool.dev/v1alpha1
        kind: BuilderPool
        metadata:
          name: alpha
        spec:
          replicas: 2
          builder:
            image: moby/buildkit:v0.16
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("localapi-kubectl-").FullName;

    private Kubectl Kubectl
    {
        get
        {
            var path = Path.Combine(_dir, "kubeconfig");
            if (!File.Exists(path))
            {
                Server.WriteKubeconfig(path);
            }

            return new Kubectl(path);
        }
    }

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [KubectlFact]
    public async Task Apply_creates_then_reports_unchanged_then_configured()
    {
        var file = WriteFile("pool.yaml", PoolYaml);

        var first = await Kubectl.RunAsync("apply", "-f", file);
        var second = await Kubectl.RunAsync("apply", "-f", file);
        WriteFile("pool.yaml", PoolYaml.Replace("replicas: 2", "replicas: 3", StringComparison.Ordinal));
        var third = await Kubectl.RunAsync("apply", "-f", file);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("builderpool.test.buildpool.dev/alpha created", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("builderpool.test.buildpool.dev/alpha unchanged", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("builderpool.test.buildpool.dev/alpha configured", third.Stdout, StringComparison.Ordinal);
        var pool = await GetPoolAsync("alpha");
        Assert.Equal(3, pool["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(2, pool["metadata"]!["generation"]!.GetValue<long>());
    }

    [KubectlFact]
    public async Task Apply_of_built_in_kinds_uses_strategic_merge_and_settles()
    {
        var manifest = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              a: "1"
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - name: app
                    image: nginx:1
            """;
        var file = WriteFile("builtins.yaml", manifest);

        var first = await Kubectl.RunAsync("apply", "-f", file);
        var second = await Kubectl.RunAsync("apply", "-f", file);
        WriteFile("builtins.yaml", manifest.Replace("nginx:1", "nginx:2", StringComparison.Ordinal));
        var third = await Kubectl.RunAsync("apply", "-f", file);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("deployment.apps/web created", first.Stdout, StringComparison.Ordinal);
        Assert.Contains("configmap/settings unchanged", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/web unchanged", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("deployment.apps/web configured", third.Stdout, StringComparison.Ordinal);
        Assert.Empty(third.Stderr);
        var image = await Kubectl.RunAsync("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}");
        Assert.Equal("nginx:2", image.Stdout);
    }

    [KubectlFact]
    public async Task Get_prints_the_crd_printer_columns_by_short_name_and_category()
    {
        await CreatePoolAsync(Pool("alpha", replicas: 2));

        var byShortName = await Kubectl.RunAsync("get", "tbp");
        var byCategory = await Kubectl.RunAsync("get", "buildpool");

        Assert.True(byShortName.ExitCode == 0, byShortName.ToString());
        var lines = byShortName.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+REPLICAS\s+PROFILE\s+READY\s+AGE$", lines[0]);
        Assert.Matches(@"^alpha\s+2\s+Rootless\s+\d+s$", lines[1]);
        Assert.Matches(@"(?m)^alpha\s+2\s+Rootless", byCategory.Stdout);
    }

    [KubectlFact]
    public async Task Get_as_yaml_prints_the_stored_object()
    {
        await CreatePoolAsync(Pool("alpha"));

        var result = await Kubectl.RunAsync("get", "builderpool", "alpha", "-o", "yaml");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("kind: BuilderPool", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("securityProfile: Rootless", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("uid: ", result.Stdout, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Delete_removes_the_object()
    {
        await CreatePoolAsync(Pool("alpha"));

        var result = await Kubectl.RunAsync("delete", "tbp", "alpha");
        var after = await Kubectl.RunAsync("get", "tbp", "alpha");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("builderpool.test.buildpool.dev \"alpha\" deleted", result.Stdout, StringComparison.Ordinal);
        Assert.NotEqual(0, after.ExitCode);
        Assert.Contains("builderpools.test.buildpool.dev \"alpha\" not found", after.Stderr, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Apply_of_an_invalid_object_fails_naming_the_field()
    {
        var file = WriteFile("bad.yaml", PoolYaml.Replace("replicas: 2", "replicas: -1", StringComparison.Ordinal) + "\n    securityProfile: Foo\n");

        var result = await Kubectl.RunAsync("apply", "-f", file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("spec.replicas: Invalid value: -1", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("spec.builder.securityProfile: Unsupported value: \"Foo\"", result.Stderr, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Apply_with_an_unknown_field_fails_under_kubectls_strict_validation()
    {
        var file = WriteFile("unknown.yaml", PoolYaml + "\n  colour: blue\n");

        var result = await Kubectl.RunAsync("apply", "-f", file);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("unknown field \"spec.colour\"", result.Stderr, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Get_watch_prints_changes_as_they_happen()
    {
        await CreatePoolAsync(Pool("alpha", replicas: 1));
        var lines = new ConcurrentQueue<string>();
        using var process = Kubectl.Start("get", "tbp", "-w");
        var reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                lines.Enqueue(line);
            }
        });

        try
        {
            // kubectl starts as a process of its own and runs discovery first: under a loaded machine
            // that alone can take longer than the 10 s default, so allow the other process tests' minute.
            await Eventually.TrueAsync(() => lines.Any(l => l.StartsWith("alpha", StringComparison.Ordinal)), "the initial row is printed", TimeSpan.FromMinutes(1));
            await Client.CustomObjects.PatchNamespacedCustomObjectAsync(new k8s.Models.V1Patch("{\"spec\":{\"replicas\":7}}", k8s.Models.V1Patch.PatchType.MergePatch), Group, Version, Ns, Plural, "alpha");
            await Eventually.TrueAsync(() => lines.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^alpha\s+7\s")), "the change is printed", TimeSpan.FromMinutes(1));
            Assert.Single(lines, l => l.StartsWith("NAME", StringComparison.Ordinal));
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
            await reading;
        }
    }

    [KubectlFact]
    public async Task Api_resources_and_explain_use_discovery_and_openapi()
    {
        var resources = await Kubectl.RunAsync("api-resources");
        var explain = await Kubectl.RunAsync("explain", "builderpools.spec.replicas");

        Assert.True(resources.ExitCode == 0, resources.ToString());
        Assert.Matches(@"builderpools\s+tbp\s+test\.buildpool\.dev/v1alpha1\s+true\s+BuilderPool", resources.Stdout);
        Assert.True(explain.ExitCode == 0, explain.ToString());
        Assert.Contains("Number of builders.", explain.Stdout, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Imperative_create_commands_work_although_they_send_protobuf()
    {
        var ns = await Kubectl.RunAsync("create", "namespace", "team-a");
        var cm = await Kubectl.RunAsync("create", "configmap", "settings", "--from-literal=a=b", "-n", "team-a");
        var secret = await Kubectl.RunAsync("create", "secret", "generic", "creds", "--from-literal=password=hunter2", "-n", "team-a");

        Assert.True(ns.ExitCode == 0, ns.ToString());
        Assert.True(cm.ExitCode == 0, cm.ToString());
        Assert.True(secret.ExitCode == 0, secret.ToString());
        Assert.Equal("b", (await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "team-a")).Data["a"]);
        var stored = await Client.CoreV1.ReadNamespacedSecretAsync("creds", "team-a");
        Assert.Equal("hunter2", System.Text.Encoding.UTF8.GetString(stored.Data["password"]));
        Assert.Equal("Opaque", stored.Type);
    }
}
