using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

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
    /// Builds with this certificate are untrusted (for example fork pull requests): they only
    /// get Private forks of cache volumes and never write back.
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

    /// <summary>Lifetime of the issued certificate; it is renewed after two thirds of it.</summary>
    [Default("\"2160h\"")]
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("validity")]
    public string Validity { get; set; } = "2160h";
}
