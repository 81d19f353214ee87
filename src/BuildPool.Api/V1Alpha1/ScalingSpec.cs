using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How many builders run, and when idle builders stop. Volumes are kept either way.</summary>
public sealed class ScalingSpec
{
    /// <summary>Builders kept running even when idle, so the first builds start without waiting.</summary>
    [Default("1")]
    [Minimum(0)]
    [Maximum(256)]
    [JsonPropertyName("warmBuilders")]
    public int WarmBuilders { get; set; } = 1;

    /// <summary>A builder without builds for this duration is drained and stopped; its volume stays.</summary>
    [Default("\"30m\"")]
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("idleTimeout")]
    public string IdleTimeout { get; set; } = "30m";

    /// <summary>
    /// How long a build waits for a stopped builder to start before it spills to the next
    /// volume on the ring.
    /// </summary>
    [Default("\"2m\"")]
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("startTimeout")]
    public string StartTimeout { get; set; } = "2m";
}
