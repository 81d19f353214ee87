using BuildPool.Api.V1Alpha1;
using BuildPool.Operator.Rendering;

namespace BuildPool.Operator.Tests.Rendering;

/// <summary>The inputs behind Golden/buildkitd/*.toml; each case name is the file name.</summary>
internal static class BuildkitdGoldenCases
{
    private const long Gi = 1L << 30;
    private const long Ti = 1L << 40;

    public static IReadOnlyDictionary<string, BuildkitdConfigInput> All { get; } = new Dictionary<string, BuildkitdConfigInput>(StringComparer.Ordinal)
    {
        ["v0.11_on_a_100Gi_volume_with_default_GC_uses_keepBytes_and_seconds"] = new()
        {
            VersionTag = "v0.11.6-rootless",
            VolumeSizeBytes = 100 * Gi,
            MaxParallelism = 4,
            HistoryMaxAge = TimeSpan.FromHours(48),
            HistoryMaxEntries = 100,
        },
        ["v0.17_on_a_100Gi_volume_with_default_GC_uses_reservedSpace_maxUsedSpace_minFreeSpace"] = new()
        {
            VersionTag = "v0.17.3-rootless",
            VolumeSizeBytes = 100 * Gi,
            MaxParallelism = 4,
            HistoryMaxAge = TimeSpan.FromHours(48),
            HistoryMaxEntries = 100,
        },
        ["v0.17_on_a_2Ti_volume_resolves_percentages_and_keeps_minFreeSpace_free"] = new()
        {
            VersionTag = "v0.17.3",
            VolumeSizeBytes = 2 * Ti,
            Gc = new GcPolicy { ReservedSpace = "5%", MaxUsedSpace = "95%", MinFreeSpace = "10%", KeepDuration = "72h" },
        },
        ["Registry_mirrors_CA_and_client_keypair_are_rendered_per_host"] = new()
        {
            VersionTag = "v0.17.3-rootless",
            VolumeSizeBytes = 100 * Gi,
            Registries =
            [
                new RegistryConfig
                {
                    Host = "registry.internal:5000",
                    CaPaths = ["/etc/buildkit/registries/registry.internal-5000/ca.crt"],
                    KeyPairs = [new RegistryKeyPair("/etc/buildkit/registries/registry.internal-5000/tls.key", "/etc/buildkit/registries/registry.internal-5000/tls.crt")],
                },
                new RegistryConfig { Host = "docker.io", Mirrors = ["mirror.gcr.io", "registry-mirror.internal:5000/dockerhub"] },
                new RegistryConfig { Host = "localhost:5000", Http = true, Insecure = true },
                // A SecretBinding's registry TLS for a host already listed: merged into one table.
                new RegistryConfig { Host = "registry.internal:5000", CaPaths = ["/etc/buildkit/bindings/corp-ca/ca.crt"] },
            ],
        },
        ["TLS_paths_are_rendered_under_grpc_tls"] = new()
        {
            VersionTag = "v0.17.3-rootless",
            VolumeSizeBytes = 50 * Gi,
            Tls = new GrpcTlsFiles("/etc/buildkit/tls/tls.crt", "/etc/buildkit/tls/tls.key", "/etc/buildkit/tls/ca.crt"),
        },
        ["An_unknown_tag_renders_the_newest_format"] = new()
        {
            VersionTag = "latest",
            VolumeSizeBytes = 100 * Gi,
            UnixSocket = "unix:///run/buildkit/buildkitd.sock",
        },
        ["A_cache_mount_rule_longer_than_keepDuration_keeps_cache_mounts_longer"] = new()
        {
            VersionTag = "v0.17.3-rootless",
            VolumeSizeBytes = 200 * Gi,
            Gc = new GcPolicy { KeepDuration = "48h" },
            CacheMounts =
            [
                new CacheMountRule { Id = "go-build", KeepDuration = "168h", MaxSize = "20Gi" },
                new CacheMountRule { Id = "npm", KeepDuration = "24h" },
            ],
        },
    };
}
