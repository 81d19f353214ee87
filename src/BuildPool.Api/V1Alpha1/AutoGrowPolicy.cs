using System.Text.Json.Serialization;
using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// Volume expansion when usage crosses a threshold. Needs a StorageClass with
/// allowVolumeExpansion; volumes never shrink.
/// </summary>
public sealed class AutoGrowPolicy
{
    /// <summary>Grow when used space exceeds this percentage of the volume.</summary>
    [Default("\"85%\"")]
    [Pattern(Patterns.Percent)]
    [MaxLength(4)]
    [JsonPropertyName("threshold")]
    public string Threshold { get; set; } = "85%";

    /// <summary>How much to add per step: a quantity, or a percentage of the current size.</summary>
    [Default("\"25%\"")]
    [Pattern(Patterns.QuantityOrPercent)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("step")]
    public string Step { get; set; } = "25%";

    /// <summary>Largest size a volume may grow to, a quantity.</summary>
    [Required]
    [Pattern(Patterns.Quantity)]
    [MaxLength(Limits.LabelLength)]
    [JsonPropertyName("maxSize")]
    public string MaxSize { get; set; } = "";
}
