using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>buildx flags for a cache target.</summary>
public sealed class BuildxCacheFlags
{
    /// <summary>Value of --cache-from.</summary>
    [MaxLength(4096)]
    [JsonPropertyName("cacheFrom")]
    public string? CacheFrom { get; set; }

    /// <summary>Value of --cache-to.</summary>
    [MaxLength(4096)]
    [JsonPropertyName("cacheTo")]
    public string? CacheTo { get; set; }
}
