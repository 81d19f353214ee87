using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Observed state of a SecretBinding.</summary>
public sealed class SecretBindingStatus
{
    /// <summary>The metadata.generation this status was computed from.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Ready, Reconciling and Stalled conditions, as kstatus expects them.</summary>
    [MaxItems(Limits.ShortList)]
    [ListType("map")]
    [ListMapKeys("type")]
    [JsonPropertyName("conditions")]
    public IList<V1Condition> Conditions { get; set; } = [];

    /// <summary>ClientAccess: namespace/name of the Secret the certificate was issued into.</summary>
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("issuedSecret")]
    public string? IssuedSecret { get; set; }

    /// <summary>ClientAccess: serial number of the issued certificate, hex; the gateway revokes it by this.</summary>
    [MaxLength(128)]
    [JsonPropertyName("certificateSerialNumber")]
    public string? CertificateSerialNumber { get; set; }

    /// <summary>ClientAccess: when the issued certificate expires.</summary>
    [JsonPropertyName("certificateNotAfter")]
    public DateTime? CertificateNotAfter { get; set; }

    /// <summary>
    /// ClientAccess: the command that creates a buildx builder for the pool with the issued
    /// certificate, once ca.pem, cert.pem and key.pem of the issued Secret are saved in
    /// $HOME/.buildpool/&lt;pool&gt;/ (see docs/security.md for the kubectl commands).
    /// </summary>
    [MaxLength(4096)]
    [JsonPropertyName("buildxCommand")]
    public string? BuildxCommand { get; set; }
}
