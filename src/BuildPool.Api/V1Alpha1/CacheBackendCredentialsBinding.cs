using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// Cloud credentials for s3 or azblob cache backends, given to the builder pods. Registry
/// push/pull credentials are not possible here: BuildKit takes those only from the client session.
/// </summary>
[ValidationRule("self.delivery != 'Env' || !has(self.mountPath)", "spec.cacheBackendCredentials.mountPath only applies when delivery is Files")]
public sealed class CacheBackendCredentialsBinding
{
    /// <summary>The mount path used when delivery is Files and mountPath is not set.</summary>
    public const string DefaultMountPath = "/run/buildpool/credentials";

    /// <summary>Name of the Secret, in the binding's namespace, holding the credentials.</summary>
    [Required]
    [Pattern(Patterns.DnsSubdomain)]
    [MaxLength(Limits.NameLength)]
    [JsonPropertyName("secretName")]
    public string SecretName { get; set; } = "";

    /// <summary>
    /// Env: every key becomes an environment variable of buildkitd (for example
    /// AWS_ACCESS_KEY_ID). Files: the Secret is mounted at mountPath.
    /// </summary>
    [Default("\"Env\"")]
    [JsonPropertyName("delivery")]
    public CredentialDelivery Delivery { get; set; } = CredentialDelivery.Env;

    /// <summary>Absolute directory the Secret is mounted at when delivery is Files. Unset means /run/buildpool/credentials.</summary>
    [Pattern("^/.*$")]
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("mountPath")]
    public string? MountPath { get; set; }
}
