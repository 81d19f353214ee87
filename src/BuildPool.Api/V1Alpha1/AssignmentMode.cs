using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How routing keys map to cache volumes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AssignmentMode>))]
public enum AssignmentMode
{
    /// <summary>Keys share a fixed number of volumes by consistent hashing with bounded loads.</summary>
    Hashed,

    /// <summary>Each routing key gets its own volume, created on first use, up to maxVolumes.</summary>
    Dedicated,
}
