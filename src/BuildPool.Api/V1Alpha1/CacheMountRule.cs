using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Limits for one cache mount, matched by its id (RUN --mount=type=cache,id=...).</summary>
public sealed class CacheMountRule
{
    /// <summary>Cache mount id; by default BuildKit uses the mount target path.</summary>
    [Required]
    [MinLength(1)]
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>Prune the mount when unused for longer than this duration, like 168h.</summary>
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("keepDuration")]
    public string? KeepDuration { get; set; }

    /// <summary>Prune the mount when it grows beyond this quantity, like 10Gi.</summary>
    [Pattern(Patterns.Quantity)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("maxSize")]
    public string? MaxSize { get; set; }
}
