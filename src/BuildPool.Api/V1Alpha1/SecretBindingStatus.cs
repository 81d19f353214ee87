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
    /// ClientAccess: serial number of the certificate issued before the current one, hex. After a
    /// renewal the gateway keeps accepting it until previousCertificateNotAfter, so copies of the
    /// old certificate (a workstation, a CI cache, a Secret mount the kubelet has not refreshed
    /// yet) keep working until they expire. Cleared once that time has passed, and never carried
    /// over when the binding moves to another target namespace or Secret.
    /// </summary>
    [MaxLength(128)]
    [JsonPropertyName("previousCertificateSerialNumber")]
    public string? PreviousCertificateSerialNumber { get; set; }

    /// <summary>ClientAccess: when the previous certificate expires; the gateway refuses it from then on.</summary>
    [JsonPropertyName("previousCertificateNotAfter")]
    public DateTime? PreviousCertificateNotAfter { get; set; }

    /// <summary>
    /// ClientAccess: the command that creates a buildx builder for the pool with the issued
    /// certificate, once ca.pem, cert.pem and key.pem of the issued Secret are saved in
    /// $HOME/.buildpool/&lt;pool&gt;/ (see docs/security.md for the kubectl commands).
    /// </summary>
    [MaxLength(4096)]
    [JsonPropertyName("buildxCommand")]
    public string? BuildxCommand { get; set; }
}
