using System.Diagnostics.CodeAnalysis;
using BuildPool.Api.Units;
using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Registry;

/// <summary>Retention limits in numbers; a tag is deleted when it breaks any of them. Null limits nothing.</summary>
public sealed record RetentionLimits(TimeSpan? MaxAge = null, int? MaxTags = null, long? MaxBytes = null)
{
    public static readonly RetentionLimits None = new();

    public bool IsNone => MaxAge is null && MaxTags is null && MaxBytes is null;

    /// <summary>Parses a policy; errors name the field under <paramref name="path"/> (like spec.retention).</summary>
    public static bool TryFrom(CacheRetentionPolicy? policy, string path, [NotNullWhen(true)] out RetentionLimits? limits, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>();
        limits = null;
        if (policy is null)
        {
            limits = None;
            errors = problems;
            return true;
        }

        TimeSpan? maxAge = null;
        if (policy.MaxAge is { } age)
        {
            if (!GoDuration.TryParse(age, out var parsed, out var reason))
            {
                problems.Add($"{path}.maxAge: {reason}");
            }
            else if (parsed <= TimeSpan.Zero)
            {
                problems.Add($"{path}.maxAge: must be positive, like 336h");
            }
            else
            {
                maxAge = parsed;
            }
        }

        if (policy.MaxTags is < 1)
        {
            problems.Add($"{path}.maxTags: must be at least 1");
        }

        long? maxBytes = null;
        if (policy.MaxBytes is { } bytes)
        {
            if (!Quantity.TryParse(bytes, out var parsed, out var reason))
            {
                problems.Add($"{path}.maxBytes: {reason}");
            }
            else if (parsed <= 0)
            {
                problems.Add($"{path}.maxBytes: must be positive, like 10Gi");
            }
            else
            {
                maxBytes = parsed;
            }
        }

        errors = problems;
        if (problems.Count > 0)
        {
            return false;
        }

        limits = new RetentionLimits(maxAge, policy.MaxTags, maxBytes);
        return true;
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (MaxAge is { } age)
        {
            parts.Add($"maxAge {GoDuration.Format(age)}");
        }

        if (MaxTags is { } tags)
        {
            parts.Add($"maxTags {tags}");
        }

        if (MaxBytes is { } bytes)
        {
            parts.Add($"maxBytes {Quantity.Format(bytes)}");
        }

        return parts.Count == 0 ? "no limits" : string.Join(", ", parts);
    }
}
