using System.Text.Json.Serialization;
using BuildPool.Api.Schema;
using k8s.Models;

namespace BuildPool.Api.V1Alpha1;

/// <summary>Observed state of a BuilderPool.</summary>
public sealed class BuilderPoolStatus
{
    /// <summary>The metadata.generation this status was computed from.</summary>
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Ready, Reconciling and Stalled conditions, as kstatus expects them.</summary>
    [MaxItems(Limits.ShortList)]
    [ListType("map")]
    [ListMapKeys("type")]
    [JsonPropertyName("conditions")]
    public IList<V1Condition> Conditions { get; set; } = [];

    /// <summary>Address clients connect to, as tcp://host:port.</summary>
    [MaxLength(Limits.TextLength)]
    [JsonPropertyName("endpoint")]
    public string? Endpoint { get; set; }

    /// <summary>Cache volumes of the pool.</summary>
    [JsonPropertyName("volumes")]
    public int Volumes { get; set; }

    /// <summary>Cache volumes whose claims are bound.</summary>
    [JsonPropertyName("readyVolumes")]
    public int ReadyVolumes { get; set; }

    /// <summary>Cache volumes in phase Failed: their builder cannot start (each volume's Stalled condition says why).</summary>
    [JsonPropertyName("failedVolumes")]
    public int FailedVolumes { get; set; }

    /// <summary>Builders running or starting.</summary>
    [JsonPropertyName("builders")]
    public int Builders { get; set; }

    /// <summary>Builders ready to take builds.</summary>
    [JsonPropertyName("readyBuilders")]
    public int ReadyBuilders { get; set; }

    /// <summary>Builds running on the pool's builders.</summary>
    [JsonPropertyName("activeBuilds")]
    public int ActiveBuilds { get; set; }

    /// <summary>Builds waiting in the gateway queue for a free slot or a starting builder.</summary>
    [JsonPropertyName("queuedBuilds")]
    public int QueuedBuilds { get; set; }

    /// <summary>The command a client runs to use the pool.</summary>
    [MaxLength(4096)]
    [JsonPropertyName("buildxCommand")]
    public string? BuildxCommand { get; set; }
}
