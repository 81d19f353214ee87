using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Rendering;

namespace BuildPool.Operator.Tests.Rendering;

public class BuildkitdConfigRendererTests
{
    private const long Gi = 1L << 30;

    private static BuildkitdConfigInput Input(string? tag = "v0.17.3") => new() { VersionTag = tag, VolumeSizeBytes = 100 * Gi };

    [Theory]
    [InlineData("v0.11.6", BuildkitdConfigDialect.KeepBytes)]
    [InlineData("v0.16.4-rootless", BuildkitdConfigDialect.KeepBytes)]
    [InlineData("v0.17.0", BuildkitdConfigDialect.ReservedSpace)]
    [InlineData("v0.20.1-rootless", BuildkitdConfigDialect.ReservedSpace)]
    [InlineData("latest", BuildkitdConfigDialect.ReservedSpace)]
    [InlineData(null, BuildkitdConfigDialect.ReservedSpace)]
    public void The_GC_field_names_follow_the_BuildKit_version(string? tag, BuildkitdConfigDialect dialect)
    {
        var config = BuildkitdConfigRenderer.Render(Input(tag));
        Assert.Equal(dialect, config.Dialect);
        var legacy = dialect == BuildkitdConfigDialect.KeepBytes;
        Assert.Equal(legacy, config.Toml.Contains("keepBytes = ", StringComparison.Ordinal));
        Assert.Equal(legacy, config.Toml.Contains("gckeepstorage = ", StringComparison.Ordinal));
        Assert.Equal(!legacy, config.Toml.Contains("reservedSpace = ", StringComparison.Ordinal));
        Assert.Equal(!legacy, config.Toml.Contains("keepDuration = \"48h\"", StringComparison.Ordinal));
        Assert.Equal(legacy, config.Toml.Contains("keepDuration = 172800", StringComparison.Ordinal));
    }

    [Fact]
    public void The_same_input_renders_the_same_bytes_whatever_the_registry_order()
    {
        RegistryConfig a = new() { Host = "b.example", Mirrors = ["m1"] };
        RegistryConfig b = new() { Host = "a.example", Http = true };
        var first = BuildkitdConfigRenderer.Render(Input() with { Registries = [a, b] }).Toml;
        var second = BuildkitdConfigRenderer.Render(Input() with { Registries = [b, a] }).Toml;
        Assert.Equal(first, second);
        Assert.True(first.IndexOf("a.example", StringComparison.Ordinal) < first.IndexOf("b.example", StringComparison.Ordinal));
    }

    [Fact]
    public void Entries_for_one_host_become_one_table()
    {
        var toml = BuildkitdConfigRenderer.Render(Input() with
        {
            Registries =
            [
                new RegistryConfig { Host = "r.example", Mirrors = ["m1"], CaPaths = ["/ca1"] },
                new RegistryConfig { Host = "r.example", Mirrors = ["m1", "m2"], CaPaths = ["/ca2"], Insecure = true },
            ],
        }).Toml;
        Assert.Single(toml.Split('\n'), l => l == "[registry.\"r.example\"]");
        Assert.Contains("  mirrors = [\"m1\", \"m2\"]\n", toml, StringComparison.Ordinal);
        Assert.Contains("  ca = [\"/ca1\", \"/ca2\"]\n", toml, StringComparison.Ordinal);
        Assert.Contains("  insecure = true\n", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("http = ", toml, StringComparison.Ordinal);
        Assert.Empty(TomlSanityChecker.Check(toml));
    }

    [Fact]
    public void A_registry_entry_that_sets_nothing_writes_no_table() =>
        Assert.DoesNotContain("registry.", BuildkitdConfigRenderer.Render(Input() with { Registries = [new RegistryConfig { Host = "r.example" }] }).Toml, StringComparison.Ordinal);

    [Fact]
    public void Quotes_backslashes_and_control_characters_in_strings_are_escaped()
    {
        var toml = BuildkitdConfigRenderer.Render(Input() with
        {
            Registries = [new RegistryConfig { Host = "r.example", CaPaths = ["/odd \"dir\"\\ca\n.crt\u0001"] }],
        }).Toml;
        Assert.Contains("  ca = [\"/odd \\\"dir\\\"\\\\ca\\n.crt\\u0001\"]\n", toml, StringComparison.Ordinal);
        Assert.Empty(TomlSanityChecker.Check(toml));
    }

    [Fact]
    public void Before_0_17_gckeepstorage_is_maxUsedSpace_in_whole_megabytes()
    {
        var config = BuildkitdConfigRenderer.Render(Input("v0.11.6"));
        Assert.Contains($"  gckeepstorage = {80 * Gi / 1_000_000} # MB, maxUsedSpace\n", config.Toml, StringComparison.Ordinal);
    }

    [Fact]
    public void History_is_left_out_before_BuildKit_0_11_and_when_unset()
    {
        var withHistory = Input("v0.10.6") with { HistoryMaxEntries = 10 };
        Assert.DoesNotContain("[history]", BuildkitdConfigRenderer.Render(withHistory).Toml, StringComparison.Ordinal);
        Assert.DoesNotContain("[history]", BuildkitdConfigRenderer.Render(Input()).Toml, StringComparison.Ordinal);
        Assert.Contains("[history]\n  maxEntries = 10\n", BuildkitdConfigRenderer.Render(withHistory with { VersionTag = "v0.11.0" }).Toml, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_unix_socket_only_TCP_is_served() =>
        Assert.Contains("  address = [\"tcp://0.0.0.0:1234\"]\n", BuildkitdConfigRenderer.Render(Input() with { UnixSocket = null }).Toml, StringComparison.Ordinal);

    [Fact]
    public void TLS_without_a_client_CA_writes_cert_and_key_only()
    {
        var toml = BuildkitdConfigRenderer.Render(Input() with { Tls = new GrpcTlsFiles("/tls/tls.crt", "/tls/tls.key") }).Toml;
        Assert.Contains("[grpc.tls]\n  cert = \"/tls/tls.crt\"\n  key = \"/tls/tls.key\"\n\n", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void The_policy_list_has_BuildKits_default_shape()
    {
        var toml = BuildkitdConfigRenderer.Render(Input()).Toml;
        var policies = toml.Split("[[worker.oci.gcpolicy]]")[1..];
        Assert.Equal(4, policies.Length);
        Assert.Contains("filters = [\"type==source.local\", \"type==exec.cachemount\", \"type==source.git.checkout\"]", policies[0], StringComparison.Ordinal);
        Assert.Contains("keepDuration = \"1440h\"", policies[1], StringComparison.Ordinal);
        Assert.DoesNotContain("all = true", policies[2], StringComparison.Ordinal);
        Assert.Contains("all = true", policies[3], StringComparison.Ordinal);
    }

    [Fact]
    public void The_renderer_exposes_the_budget_it_wrote()
    {
        var config = BuildkitdConfigRenderer.Render(Input());
        Assert.Contains($"  maxUsedSpace = {config.Budget.MaxUsedSpaceBytes} # 80Gi\n", config.Toml, StringComparison.Ordinal);
        Assert.Equal(new BuildkitVersion(0, 17, 3), config.Version);
    }

    [Fact]
    public void A_bad_GC_limit_is_a_reason_naming_the_field_not_an_exception()
    {
        Assert.False(BuildkitdConfigRenderer.TryRender(Input() with { Gc = new GcPolicy { MaxUsedSpace = "lots" } }, out _, out var reason));
        Assert.StartsWith("spec.cache.gc.maxUsedSpace: \"lots\"", reason, StringComparison.Ordinal);
        var error = Assert.Throws<ArgumentException>(() => BuildkitdConfigRenderer.Render(Input() with { VolumeSizeBytes = 0 }));
        Assert.StartsWith("spec.cache.volume.size", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Clamped_limits_are_explained_in_the_file()
    {
        var toml = BuildkitdConfigRenderer.Render(Input() with { Gc = new GcPolicy { ReservedSpace = "90%" } }).Toml;
        Assert.Contains("# reservedSpace 90% lowered to 80Gi so that it does not exceed maxUsedSpace.\n", toml, StringComparison.Ordinal);
    }
}
