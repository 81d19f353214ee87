using BuildPool.Api.Schema;
using BuildPool.Host.Commands;
using BuildPool.TestDoubles;

namespace BuildPool.Host.Tests;

public sealed class CommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("buildpool-host-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task Crds_command_writes_the_same_files_as_the_checked_in_crds_directory()
    {
        var (code, output, error) = await Cli.RunAsync(_dir.FullName, "crds", "--out", "out");
        Assert.True(code == 0, error);
        Assert.Contains("wrote 4 files", output, StringComparison.Ordinal);
        foreach (var file in Directory.GetFiles(RepositoryPaths.Crds, "*.yaml"))
        {
            Assert.Equal(await File.ReadAllTextAsync(file), await File.ReadAllTextAsync(Path.Combine(_dir.FullName, "out", Path.GetFileName(file))));
        }
    }

    [Fact]
    public void Crds_command_removes_generated_files_whose_kind_no_longer_exists()
    {
        var stale = Path.Combine(_dir.FullName, "buildpool.dev_oldkinds.yaml");
        File.WriteAllText(stale, "old");
        CrdsCommand.Write(_dir, CrdGenerator.GenerateYamlFiles());
        Assert.False(File.Exists(stale));
        Assert.Equal(4, _dir.GetFiles("*.yaml").Length);
    }

    [Fact]
    public async Task Operator_without_a_kubeconfig_explains_in_one_line_and_exits_non_zero()
    {
        var (code, _, error) = await Cli.RunAsync(_dir.FullName, "operator");
        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("buildpool operator: no cluster configured", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operator_with_an_unreachable_cluster_names_the_address_without_a_stack_trace()
    {
        var kubeconfig = Path.Combine(_dir.FullName, "kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, """
            apiVersion: v1
            kind: Config
            clusters:
            - name: gone
              cluster:
                server: http://127.0.0.1:9
            contexts:
            - name: gone
              context:
                cluster: gone
                user: nobody
            current-context: gone
            users:
            - name: nobody
              user:
                token: none
            """);
        var (code, _, error) = await Cli.RunAsync(_dir.FullName, "operator", "--kubeconfig", kubeconfig);
        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("cannot reach the Kubernetes API at http://127.0.0.1:9", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--upstream-cert and --upstream-key go together", "--upstream-cert", "/no/such/cert.pem")]
    [InlineData("--upstream-ca '/no/such/ca.pem': no such file", "--upstream-ca", "/no/such/ca.pem")]
    [InlineData("--require-client-certificate needs --client-ca", "--require-client-certificate=true")]
    [InlineData("--upstream-connection-buffer 1Mi must be at least twice --upstream-stream-buffer 1Mi", "--upstream-connection-buffer", "1Mi")]
    [InlineData("--upstream-stream-buffer: \"1Ki\" must be between 65535 and 2147483647 bytes", "--upstream-stream-buffer", "1Ki")]
    [InlineData("--upstream-buffer-total: \"lots\"", "--upstream-buffer-total", "lots")]
    [InlineData("--min-response-data-rate-grace: \"1s\" must be longer than 1s", "--min-response-data-rate-grace", "1s")]
    [InlineData("--min-response-data-rate does not go with --mode passthrough", "--mode", "passthrough", "--min-response-data-rate", "1Ki")]
    [InlineData("--max-id-length 8: must be at least 32", "--max-id-length", "8")]
    [InlineData("--max-connections-per-source 0: must be at least 1", "--max-connections-per-source", "0")]
    [InlineData("--idle-timeout", "--idle-timeout", "soon")]
    [InlineData("--max-tls-handshakes does not go with --mode passthrough", "--mode", "passthrough", "--max-tls-handshakes", "10")]
    [InlineData("--inject-cache-ref-untrusted goes with --inject-cache-ref", "--inject-cache-ref-untrusted", "cache.internal:5001/cache/{key}")]
    [InlineData("--inject-cache-ref-untrusted 'cache.internal:5001/cache' has no {key}", "--inject-cache-ref", "cache.internal:5000/cache/{key}", "--inject-cache-ref-untrusted", "cache.internal:5001/cache")]
    [InlineData("--inject-cache-ref-untrusted does not go with --mode passthrough", "--mode", "passthrough", "--inject-cache-ref-untrusted", "cache.internal:5001/cache/{key}")]
    public async Task Gateway_flags_that_cannot_work_fail_in_one_line_naming_the_flag(string expected, params string[] flags)
    {
        var (code, _, error) = await Cli.RunAsync(_dir.FullName, ["gateway", "--backend", "b=tcp://127.0.0.1:1", .. flags]);

        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"buildpool gateway: {expected}", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--upstream-keepalive-timeout: \"0s\" must be longer than zero", "--upstream-keepalive-timeout", "0s")]
    [InlineData("--upstream-keepalive-interval: ", "--upstream-keepalive-interval", "soon")]
    [InlineData("--upstream-max-control-frames 0: must be at least 1", "--upstream-max-control-frames", "0")]
    [InlineData("--upstream-max-queued-control-frames 0: must be at least 1", "--upstream-max-queued-control-frames", "0")]
    public async Task Gateway_upstream_liveness_and_flood_limits_out_of_range_fail_in_one_line_naming_the_flag(string expected, params string[] flags)
    {
        var (code, _, error) = await Cli.RunAsync(_dir.FullName, ["gateway", "--backend", "b=tcp://127.0.0.1:1", .. flags]);

        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"buildpool gateway: {expected}", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("config/crd/bases")]
    [InlineData("charts/buildpool/crds")]
    public void Copies_of_the_crds_match_the_crds_directory(string copy)
    {
        var directory = Path.Combine(RepositoryPaths.Root, copy);
        var expected = Directory.GetFiles(RepositoryPaths.Crds, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        var actual = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList() : [];
        Assert.True(expected.SequenceEqual(actual), $"{copy} holds [{string.Join(", ", actual)}], crds/ holds [{string.Join(", ", expected)}]: run `make manifests`");
        foreach (var file in expected)
        {
            Assert.True(
                File.ReadAllText(Path.Combine(RepositoryPaths.Crds, file!)) == File.ReadAllText(Path.Combine(directory, file!)),
                $"{copy}/{file} differs from crds/{file}: run `make manifests`");
        }
    }
}
