using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Which layers a cache export writes, as buildx mode=min|max.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CacheExportMode>))]
public enum CacheExportMode
{
    /// <summary>Only the layers of the final image; small and fast.</summary>
    [JsonStringEnumMemberName("min")]
    Min,

    /// <summary>All intermediate layers too; more cache hits for multi-stage builds.</summary>
    [JsonStringEnumMemberName("max")]
    Max,
}
