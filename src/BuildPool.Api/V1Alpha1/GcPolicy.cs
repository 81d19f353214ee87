using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// BuildKit garbage collection limits. Each size is a quantity or a percentage of the volume
/// size; the operator renders the field names of the BuildKit version in use (keepBytes before
/// 0.17).
/// </summary>
public sealed class GcPolicy
{
    /// <summary>Space BuildKit never frees below: cache up to this size is always kept.</summary>
    [Default("\"10%\"")]
    [Pattern(Patterns.QuantityOrPercent)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("reservedSpace")]
    public string ReservedSpace { get; set; } = "10%";

    /// <summary>Most space the cache may use before GC frees some.</summary>
    [Default("\"80%\"")]
    [Pattern(Patterns.QuantityOrPercent)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("maxUsedSpace")]
    public string MaxUsedSpace { get; set; } = "80%";

    /// <summary>Free space GC keeps on the volume, whatever the cache size.</summary>
    [Default("\"10%\"")]
    [Pattern(Patterns.QuantityOrPercent)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("minFreeSpace")]
    public string MinFreeSpace { get; set; } = "10%";

    /// <summary>Cache unused for longer than this is freed first, as a duration like 48h. Unset means no age limit.</summary>
    [Pattern(Patterns.Duration)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("keepDuration")]
    public string? KeepDuration { get; set; }
}
