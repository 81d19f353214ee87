using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using BuildPool.Api.Units;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// A client certificate signed by the pool CA, issued into a Secret in a tenant namespace.
/// Deleting the binding revokes the certificate at the gateway.
/// </summary>
public sealed class ClientAccessBinding
{
    /// <summary>The Secret name used when clientAccess.secretName is not set.</summary>
    public const string DefaultSecretName = "buildpool-client";

    /// <summary>Namespace the client certificate Secret is written to.</summary>
    [Required]
    [Pattern(Patterns.DnsLabel)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("targetNamespace")]
    public string TargetNamespace { get; set; } = "";

    /// <summary>Name of the Secret written to targetNamespace, with keys ca.pem, cert.pem and key.pem (the files buildx takes as cacert=, cert= and key=).</summary>
    [Default("\"" + DefaultSecretName + "\"")]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("secretName")]
    public string SecretName { get; set; } = DefaultSecretName;

    /// <summary>
    /// Builds with this certificate are untrusted (for example fork pull requests): each runs on
    /// an isolated fork of its key's volume, imports but never exports the pool's registry cache,
    /// and never writes back. Isolation follows this identity, not the keys a build names; a pool
    /// with an untrusted binding must require client certificates (else it is Stalled).
    /// </summary>
    [Default("false")]
    [JsonPropertyName("untrusted")]
    public bool Untrusted { get; set; }

    /// <summary>
    /// Running builds this tenant may have at once across the pool; further builds queue like
    /// builds waiting for a builder slot. Unset: only the per-builder limits apply.
    /// </summary>
    [Minimum(1)]
    [Maximum(10000)]
    [JsonPropertyName("maxConcurrentBuilds")]
    public int? MaxConcurrentBuilds { get; set; }

    /// <summary>
    /// Routing keys this tenant shares with others (and with clients without a certificate):
    /// builds of these keys use the key as it is. Every other key of the tenant's builds is
    /// namespaced as &lt;binding name&gt;@&lt;key&gt;, so a tenant never lands on another tenant's
    /// volume, whatever image or directory name it sends.
    /// </summary>
    [MaxItems(Limits.LongList)]
    [ListType("set")]
    [Pattern(RoutingKeyName.Pattern)]
    [MaxLength(RoutingKeyName.MaxLength)]
    [JsonPropertyName("sharedKeys")]
    public IList<string>? SharedKeys { get; set; }

    /// <summary>Lifetime of the issued certificate; it is renewed after two thirds of it.</summary>
    [Default("\"2160h\"")]
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("validity")]
    public string Validity { get; set; } = "2160h";
}
