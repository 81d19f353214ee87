using System.Text.Json.Serialization;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How concurrent builds share one cache volume; the words follow BuildKit's cache-mount sharing modes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CacheSharing>))]
public enum CacheSharing
{
    /// <summary>One builder serves many concurrent builds on this volume, up to maxConcurrentBuilds. Most cache reuse.</summary>
    Shared,

    /// <summary>One build at a time; further builds for this volume wait in the gateway queue up to routing.queueTimeout. For release builds and tools that are not concurrency-safe.</summary>
    Locked,

    /// <summary>When the builder is at capacity a temporary fork starts on a clone of the volume and is discarded when idle, without write-back. Also the mode for untrusted keys.</summary>
    Private,
}
