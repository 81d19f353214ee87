using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How the gateway picks a build's routing key and spreads keys over builders.</summary>
public sealed class RoutingSpec
{
    /// <summary>
    /// Where a build's key comes from, tried in this order; the first source that yields a key
    /// wins. Builds without a key follow the connection's last keyed build.
    /// </summary>
    [Default("[\"Authority\",\"ClientCertificate\",\"ImageName\",\"CacheRef\",\"SessionDirectory\"]")]
    [MinItems(1)]
    [MaxItems(5)]
    [ListType("atomic")]
    [ValidationRule("self.all(x, self.exists_one(y, y == x))", "spec.routing.keySources must not repeat a source")]
    [JsonPropertyName("keySources")]
    public IList<RoutingKeySource> KeySources { get; set; } =
    [
        RoutingKeySource.Authority,
        RoutingKeySource.ClientCertificate,
        RoutingKeySource.ImageName,
        RoutingKeySource.CacheRef,
        RoutingKeySource.SessionDirectory,
    ];

    /// <summary>
    /// DNS domain for Authority keys: a client connecting to &lt;key&gt;.&lt;domain&gt; (or
    /// sending that TLS server name) gets routing key &lt;key&gt;.
    /// </summary>
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("domain")]
    public string? Domain { get; set; }

    /// <summary>
    /// Consistent hashing with bounded loads: no builder takes more than this factor times the
    /// average load before keys spill to the next builder. Lower balances better, higher keeps
    /// caches warmer.
    /// </summary>
    [Default("1.25")]
    [Minimum(1)]
    [Maximum(10)]
    [JsonPropertyName("boundedLoadFactor")]
    public double BoundedLoadFactor { get; set; } = 1.25;

    /// <summary>How long a build waits for a free slot before it fails with RESOURCE_EXHAUSTED.</summary>
    [Default("\"5m\"")]
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("queueTimeout")]
    public string QueueTimeout { get; set; } = "5m";

    /// <summary>
    /// Glob patterns over routing keys (* matches any run of characters, ? one character) whose
    /// builds are untrusted, for example pull requests from forks. An untrusted build always runs
    /// on an isolated fork of its key's volume, seeded from it, used by that build only and
    /// deleted after it; it never reaches a builder that trusted builds use. Keys are chosen by
    /// the client (image and directory names), so these patterns are a hint for pools without
    /// tenants, not a boundary: a client can pick a key that does not match. Isolation that holds
    /// is decided by identity: a ClientAccess SecretBinding with spec.clientAccess.untrusted.
    /// </summary>
    [MaxItems(Limits.LongList)]
    [ListType("set")]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("untrustedKeys")]
    public IList<string>? UntrustedKeys { get; set; }
}
