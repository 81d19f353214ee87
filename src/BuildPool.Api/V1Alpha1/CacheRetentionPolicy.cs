using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Which cache tags the operator deletes; a tag is deleted when any limit is exceeded.</summary>
public sealed class CacheRetentionPolicy
{
    /// <summary>Delete tags not pushed for longer than this duration, like 336h.</summary>
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("maxAge")]
    public string? MaxAge { get; set; }

    /// <summary>Keep at most this many tags, the most recently pushed.</summary>
    [Minimum(1)]
    [JsonPropertyName("maxTags")]
    public int? MaxTags { get; set; }

    /// <summary>Delete the oldest tags while the target holds more than this quantity, like 200Gi.</summary>
    [Pattern(Patterns.Quantity)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("maxBytes")]
    public string? MaxBytes { get; set; }
}
