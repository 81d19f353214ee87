using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// Limits on the temporary forks of Private cache volumes: overflow forks (a busy volume scales
/// out onto clones of itself) and isolated forks (one per untrusted build).
/// </summary>
public sealed class ForkPolicy
{
    /// <summary>Most forks of one cache volume at a time, overflow and isolated forks together.</summary>
    [Default("2")]
    [Minimum(0)]
    [Maximum(64)]
    [JsonPropertyName("maxPerVolume")]
    public int MaxPerVolume { get; set; } = 2;

    /// <summary>Most forks in the whole pool at a time, overflow and isolated forks together.</summary>
    [Default("8")]
    [Minimum(0)]
    [Maximum(256)]
    [JsonPropertyName("maxPerPool")]
    public int MaxPerPool { get; set; } = 8;

    /// <summary>
    /// An overflow fork without builds for this duration is drained and deleted with its volume
    /// (forks never write back). Unset means the pool's spec.scaling.idleTimeout.
    /// </summary>
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("idleTimeout")]
    public string? IdleTimeout { get; set; }
}
