using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Compression of exported cache layers.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CacheCompression>))]
public enum CacheCompression
{
    /// <summary>gzip, readable by every client.</summary>
    [JsonStringEnumMemberName("gzip")]
    Gzip,

    /// <summary>eStargz, lazily pullable gzip.</summary>
    [JsonStringEnumMemberName("estargz")]
    Estargz,

    /// <summary>zstd, faster and smaller; needs recent clients.</summary>
    [JsonStringEnumMemberName("zstd")]
    Zstd,
}
