using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Lifecycle phase of a cache volume and its builder.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CacheVolumePhase>))]
public enum CacheVolumePhase
{
    /// <summary>The volume is being provisioned.</summary>
    Pending,

    /// <summary>The builder is starting on the volume.</summary>
    Starting,

    /// <summary>The builder is running and accepts builds.</summary>
    Ready,

    /// <summary>The builder is stopped; the volume is kept and the builder starts on the next build.</summary>
    Idle,

    /// <summary>The builder takes no new builds and stops when its running builds finish.</summary>
    Draining,

    /// <summary>The volume or its builder cannot be made ready; see the conditions.</summary>
    Failed,
}
