using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>How routing keys are assigned to cache volumes.</summary>
[ValidationRule("self.mode != 'Dedicated' || self.maxVolumes >= self.volumes", "spec.assignment.maxVolumes must not be less than spec.assignment.volumes")]
public sealed class AssignmentSpec
{
    /// <summary>Hashed shares a fixed set of volumes; Dedicated gives each key its own.</summary>
    [Default("\"Hashed\"")]
    [JsonPropertyName("mode")]
    public AssignmentMode Mode { get; set; } = AssignmentMode.Hashed;

    /// <summary>Number of volumes keys are hashed onto (Hashed mode).</summary>
    [Default("4")]
    [Minimum(1)]
    [Maximum(256)]
    [JsonPropertyName("volumes")]
    public int Volumes { get; set; } = 4;

    /// <summary>
    /// Most volumes Dedicated mode creates; keys beyond it fall back to hashing onto the
    /// existing volumes.
    /// </summary>
    [Default("64")]
    [Minimum(1)]
    [Maximum(1024)]
    [JsonPropertyName("maxVolumes")]
    public int MaxVolumes { get; set; } = 64;

    /// <summary>
    /// Dedicated mode: most volumes one tenant (a ClientAccess SecretBinding; clients without one
    /// count as one tenant) may hold. A tenant at its quota, or at a full pool, gets room only by
    /// evicting its own least recently used idle volume: one tenant's keys never evict another's.
    /// Unset: maxVolumes.
    /// </summary>
    [Minimum(1)]
    [Maximum(1024)]
    [JsonPropertyName("maxVolumesPerTenant")]
    public int? MaxVolumesPerTenant { get; set; }
}
