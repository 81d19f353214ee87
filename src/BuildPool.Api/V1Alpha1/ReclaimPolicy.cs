using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>What happens to cache volumes that are no longer needed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReclaimPolicy>))]
public enum ReclaimPolicy
{
    /// <summary>Volumes are kept until deleted by hand; cache survives pool changes.</summary>
    Retain,

    /// <summary>Volumes idle for longer than their retention, and volumes of a deleted pool, are deleted.</summary>
    Delete,
}
