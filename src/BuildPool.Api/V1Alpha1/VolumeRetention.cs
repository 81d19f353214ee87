using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Retention of a cache volume under reclaimPolicy Delete; Retain volumes are never deleted.</summary>
public sealed class VolumeRetention
{
    /// <summary>Delete the volume after it has served no build for this duration, like 168h.</summary>
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("deleteAfterIdle")]
    public string? DeleteAfterIdle { get; set; }
}
